from config.celery import app


def use_broker(eager, url):
    """Switch this process's Celery app to another broker (or back to eager execution)."""
    app.conf.update(task_always_eager=eager, broker_url=url)
    # Celery keeps the connection and producer pools of the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None
