import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class CatalogTask(Task):
    """Sent tasks go to the broker; with none (the embedded mode) they run on the web process's
    background thread (worker.embedded), or in the caller when CATALOG_EMBEDDED_TASKS is "inline"."""

    def apply_async(self, args=None, kwargs=None, **options):
        from django.conf import settings

        if self.app.conf.task_always_eager and settings.CATALOG_EMBEDDED_TASKS == "background":
            from worker import embedded

            return embedded.submit(self, args, kwargs, options)
        return super().apply_async(args, kwargs, **options)


app = Celery("catalog", task_cls=CatalogTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["worker"])
