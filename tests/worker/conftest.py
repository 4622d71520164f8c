import os
import subprocess
import sys

import pytest
import redis
from django.db import connection

from config.celery import app
from tests.celery_support import service_env, use_broker


@pytest.fixture
def start_worker(settings, tmp_path):
    """start_worker(broker_url=None, pool="solo", env=None) -> (process, log): a real `celery worker`
    on the test database, in a session of its own (so that killing its group kills its pool too),
    with `env` added to its environment. This process sends its tasks to the last worker's broker;
    every worker is stopped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    started = []
    previous = app.conf.task_always_eager, app.conf.broker_url

    def start(broker_url=None, pool="solo", env=None):
        env = service_env(settings) | ({"CELERY_BROKER_URL": broker_url} if broker_url else {}) | (env or {})
        log = open(tmp_path / f"worker-{len(started)}.log", "w+")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency", "1",
             "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--hostname", f"worker{len(started)}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        started.append((process, log))
        use_broker(False, env["CELERY_BROKER_URL"])
        return process, log

    redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).flushdb()  # a database of its own: no stale tasks
    yield start
    use_broker(*previous)
    for process, log in started:
        process.terminate()
        process.wait(timeout=60)
        log.close()


@pytest.fixture
def celery_worker(start_worker):
    return start_worker()
