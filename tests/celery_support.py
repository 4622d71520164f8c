import time

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
