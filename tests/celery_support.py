import os
import time

from django.db import connection

from config.celery import app

WAIT_SECONDS = 180


def use_broker(eager, url):
    """Switch this process's Celery app to another broker (or back to eager execution)."""
    app.conf.update(task_always_eager=eager, broker_url=url)
    # Celery keeps the connection and producer pools of the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None


def wait_until_settled(listing):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if listing.is_settled:
            return
        time.sleep(0.5)


def service_env(settings):
    """The environment of a worker or web server process started by a test: the test database
    (committed rows only: use transactional_db), the test broker, and this test's files."""
    return os.environ | {
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        "CELERY_BROKER_URL": os.environ["TEST_REDIS_URL"],
        "CATALOG_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CATALOG_INDEX_PATH": str(settings.CATALOG_INDEX_PATH),
        "CATALOG_SEGMENTER": settings.CATALOG_SEGMENTER,
        "CATALOG_BATCH_PHOTOS": str(settings.CATALOG_BATCH_PHOTOS),
    }
