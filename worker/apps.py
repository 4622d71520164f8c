from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """The worker process's app: no models (they are catalog's), its management commands, which run
    worker code, and the Celery tasks (config.celery discovers worker.tasks)."""

    name = "worker"
    verbose_name = "Worker"
