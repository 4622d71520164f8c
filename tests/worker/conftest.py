import os
import subprocess
import sys

import pytest
import redis
from django.db import connection

from config.celery import app
from tests.celery_support import use_broker


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
        "CATALOG_SEGMENTER": settings.CATALOG_SEGMENTER,
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
