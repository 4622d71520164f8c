"""A real `celery worker` process consumes the task from the real Redis and writes to PostgreSQL."""

import os
import subprocess
import sys
import time

import pytest
import redis
from django.db import connection

from catalog.models import Listing
from config.celery import app
from tests.celery_support import use_broker
from tests.photos import grocery_upload

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 180


@pytest.fixture
def celery_worker(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).flushdb()  # a database of its own: no stale tasks
    database = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**database),
        "CELERY_BROKER_URL": os.environ["TEST_REDIS_URL"],
        "CATALOG_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CATALOG_INDEX_PATH": str(settings.CATALOG_INDEX_PATH),
    }
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    previous = app.conf.task_always_eager, app.conf.broker_url
    use_broker(False, env["CELERY_BROKER_URL"])
    yield process, log
    use_broker(*previous)
    process.terminate()
    process.wait(timeout=60)
    log.close()


def wait_until_settled(listing):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if listing.is_settled:
            return
        time.sleep(0.5)


def test_a_real_worker_categorizes_an_uploaded_photo(celery_worker, imported_catalogue, owner_client):
    process, log = celery_worker
    response = owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert response.status_code == 302
    listing = Listing.objects.get()
    assert listing.photos.get().status in ("queued", "processing")  # not done in the web process
    wait_until_settled(listing)
    photo = listing.photos.get()
    log.seek(0)
    assert photo.status == "done", f"photo is {photo.status}; worker log:\n{log.read()[-3000:]}"
    assert photo.items.first().category.path == "Fruit > Banana"
    assert process.poll() is None
