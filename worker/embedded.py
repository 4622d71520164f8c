"""The embedded mode's worker: with no broker, tasks run one at a time on a background thread of
the web process, so an upload is answered at once and the listing page's live status works as it
does with Celery workers.

A task sent from a request (or from another task) is queued here and run as Celery runs a task
in-process (`Task.apply`: its retries and its own error handling included). The queue lives in
memory: what a stopped server had not run yet is queued again when the next one starts
(`resume_unfinished`), as the sweeper does for lost messages when there are workers. The periodic
tasks Celery beat runs beside workers run on it too (`start_schedule`).
"""

import logging
import queue
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import connections
from django.utils import timezone

from catalog.models import BulkJob, Photo

from .sweeper import listings_left_behind
from .tasks import categorize_photo, decide_listing, import_bulk_job

log = logging.getLogger(__name__)

_queue = queue.Queue()
_start_lock = threading.Lock()
_thread = None


def submit(task, args=None, kwargs=None, options=None):
    """Queue `task` to run on the background thread; returns at once."""
    _start()
    _queue.put((task, tuple(args or ()), dict(kwargs or {}), dict(options or {})))


def wait_idle(timeout):
    """Wait until every queued task has run; True if they all did within `timeout` seconds."""
    finished = threading.Event()
    threading.Thread(target=lambda: (_queue.join(), finished.set()), daemon=True).start()
    return finished.wait(timeout)


def resume_unfinished():
    """Queue again the photos, bulk jobs and listing decisions a stopped server left unfinished. For
    a process that just started: anything still queued or processing then was in the memory of one
    that is gone."""
    jobs = BulkJob.objects.exclude(status=BulkJob.Status.DONE)
    photos = Photo.objects.filter(status__in=Photo.Status.pending())
    unfinished = {
        import_bulk_job: jobs.order_by("pk").values_list("pk", flat=True),
        categorize_photo: photos.order_by("pk").values_list("pk", flat=True),
        # After the photos: one categorized now decides its listing anyway.
        decide_listing: sorted(listings_left_behind(None, timezone.now())),
    }
    for task, ids in unfinished.items():
        for pk in ids:
            submit(task, (pk,))


# The beat schedule's tasks (config/settings.py) that the embedded mode needs: without them the
# index's changes were never compacted (GET /health failed an hour after a staff decision) and no
# daily audit was drawn. The sweeper's is left out: this queue loses no message while the process
# lives, and resume_unfinished runs when it starts.
SCHEDULED = ("update-reference-index", "draw-daily-audits", "refit-thresholds", "tidy-up")
SCHEDULE_TICK = 30  # seconds between looks at what is due
# Each runs first this long after the server starts (a server restarted more often than its
# interval would else never run it), then every its interval.
FIRST_RUN_AFTER = 60


def start_schedule():
    """Submit each SCHEDULED task every its beat interval, from a thread of its own."""
    threading.Thread(target=_keep_schedule, name="embedded-schedule", daemon=True).start()


def _keep_schedule():
    due = {}
    while True:
        try:
            submit_due(time.monotonic(), due)
        except Exception:  # the schedule must outlive a bad moment (a task is only queued here)
            log.exception("embedded schedule")
        time.sleep(SCHEDULE_TICK)


def submit_due(now, due):
    """Submit the SCHEDULED tasks whose time (`due`: {name: monotonic time}, updated) has come; the
    first of each comes FIRST_RUN_AFTER the first `now`."""
    for name in SCHEDULED:
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        if now >= due.setdefault(name, now + FIRST_RUN_AFTER):
            submit(current_app.tasks[entry["task"]])
            due[name] = now + entry["schedule"]


def _start():
    global _thread
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="embedded-worker", daemon=True)
            _thread.start()


def _run():
    while True:
        task, args, kwargs, options = _queue.get()
        try:
            task.apply(args, kwargs, **options)
        except Exception:  # a task that escapes its own handling must not stop the ones after it
            log.exception("embedded task %s%r failed", task.name, args)
        finally:
            connections.close_all()  # this thread's: a task opens what it needs, and none is left idle
            _queue.task_done()
