"""The embedded web server (bin/run's gunicorn with no broker) takes up, when it starts, the photos
a stopped one left queued: its queue was in the stopped process's memory."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from PIL import Image

from catalog.models import Listing, Photo
from tests.celery_support import service_env
from tests.photos import grocery_upload
from tests.stack import free_port

pytestmark = pytest.mark.django_db(transaction=True)
GUNICORN = Path(sys.executable).with_name("gunicorn")


def test_a_started_embedded_server_categorizes_the_photos_left_queued(owner, imported_catalogue, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    upload = grocery_upload("Fruit/Banana")
    width, height = Image.open(upload).size
    listing = Listing.objects.create(seller=owner, title="Left queued")
    photo = Photo(listing=listing, original_name="banana.jpg", width=width, height=height)
    photo.image.save("photo.jpg", upload, save=True)

    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in service_env(settings).items() if k != "CELERY_BROKER_URL"} | {"CATALOG_ADDRESS": address}
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen([GUNICORN, "--config", "config/gunicorn.py", "config.wsgi"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and Photo.objects.get(pk=photo.pk).status in Photo.Status.pending():
            time.sleep(1)
        photo.refresh_from_db()
        log.seek(0)
        assert photo.status == "done", log.read()[-3000:]
        assert requests.get(f"http://{address}/", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
