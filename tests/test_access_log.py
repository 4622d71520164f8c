"""The web server's access log keeps no query string: queries hold what sellers search for and
staff's filters name sellers."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.celery_support import service_env
from tests.stack import free_port

pytestmark = pytest.mark.django_db(transaction=True)
GUNICORN = Path(sys.executable).with_name("gunicorn")


def test_a_search_is_not_written_to_the_access_log(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    address = f"127.0.0.1:{free_port()}"
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen([GUNICORN, "--config", "config/gunicorn.py", "config.wsgi"],
                              env=service_env(settings) | {"CATALOG_ADDRESS": address}, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://{address}/login/?next=/review/%3Fseller%3Dolivia-secret", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.5)
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    log.seek(0)
    written = log.read()
    log.close()
    assert '"GET /login/ HTTP/1.1" 200' in written, written[-2000:]
    assert "olivia-secret" not in written
