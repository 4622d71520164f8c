"""300 API uploads from 12 clients at once against the web server as bin/run starts it (gunicorn):
every one is accepted, and the database connections it holds stay bounded by its threads."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.celery_support import service_env
from tests.photos import png_bytes
from tests.stack import free_port

pytestmark = pytest.mark.django_db(transaction=True)
PROCESSES, THREADS = 2, 4
SERVER_NAME = "catalog-web-under-test"
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture
def web_server(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    address = f"127.0.0.1:{free_port()}"
    env = service_env(settings) | {"CATALOG_ADDRESS": address, "CATALOG_WEB_PROCESSES": str(PROCESSES),
                                   "CATALOG_WEB_THREADS": str(THREADS), "CATALOG_API_RATE": "100000/minute",
                                   "PGAPPNAME": SERVER_NAME}
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen([GUNICORN, "--config", "config/gunicorn.py", "config.wsgi"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    _wait_until_answering(f"http://{address}/login/", server, log)
    yield f"http://{address}"
    server.terminate()
    server.wait(timeout=30)
    log.close()


def _wait_until_answering(url, server, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.3)
    log.seek(0)
    pytest.fail(f"the web server did not start:\n{log.read()}")


def _server_connections():
    """The web server's connections (named by PGAPPNAME; this process holds others of its own)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s", [SERVER_NAME])
        return cursor.fetchone()[0]


def test_300_concurrent_uploads_all_succeed_on_bounded_connections(web_server, owner_key):
    photo = png_bytes(size=(64, 48))

    def upload(number):
        response = requests.post(f"{web_server}/api/v1/listings/", data={"title": f"Mug {number}"},
                                 files={"photos": (f"mug-{number}.png", photo, "image/png")},
                                 headers={"Authorization": f"Token {owner_key}"}, timeout=120)
        return response.status_code

    with ThreadPoolExecutor(max_workers=12) as clients:
        statuses = list(clients.map(upload, range(300)))
    assert statuses == [201] * 300
    assert 0 < _server_connections() <= PROCESSES * THREADS  # kept between requests (CONN_MAX_AGE), bounded


def test_a_server_that_could_exhaust_the_database_refuses_to_start(settings):
    env = service_env(settings) | {"CATALOG_WEB_PROCESSES": "50", "CATALOG_WEB_THREADS": "50",
                                   "CATALOG_ADDRESS": f"127.0.0.1:{free_port()}"}
    started = subprocess.run([GUNICORN, "--config", "config/gunicorn.py", "config.wsgi"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0 and "Lower CATALOG_WEB_PROCESSES" in started.stdout + started.stderr


def test_the_served_app_shows_no_debug_page(web_server):
    response = requests.get(f"{web_server}/no-such-page/", timeout=10)
    assert response.status_code == 404 and "DEBUG = True" not in response.text
    assert "There is nothing at this address" in response.text
