"""Sending work to the workers: how the web process, and anything else, enqueues a task.

Tasks are sent by name (those of worker.tasks, which queued messages, and the routes and the
schedule of config/settings.py, also use), so nothing here imports worker/, and through it torch.
With no broker (the embedded mode: bin/run's default, commands, the tests that run tasks
in-process) the task itself is sent instead: Celery's send_task would still publish to a broker,
as it ignores task_always_eager and config.celery.CatalogTask.apply_async, which runs the task
on the web process's background thread (worker.embedded) or inline. The process then is its own
worker, and the module a task's name gives is imported to register it.
"""

import logging
from importlib import import_module

from celery import current_app
from kombu.exceptions import OperationalError as BrokerError

from .models import BulkJob, Photo

log = logging.getLogger(__name__)

CATEGORIZE_PHOTO = "worker.tasks.categorize_photo"
DECIDE_LISTING = "worker.tasks.decide_listing"
IMPORT_BULK_JOB = "worker.tasks.import_bulk_job"
UPDATE_REFERENCE_INDEX = "worker.tasks.update_reference_index"
REFIT_THRESHOLDS = "worker.tasks.refit_thresholds"


def enqueue_photo(photo_id):
    """Send the task; True if it was sent. If the broker is down, the photo is marked unsent for
    the sweeper to resend."""
    return _send(CATEGORIZE_PHOTO, Photo, photo_id)


def enqueue_bulk_job(job_id):
    """Send the job's import; True if it was sent. If the broker is down, the job is marked unsent
    for the sweeper to resend."""
    return _send(IMPORT_BULK_JOB, BulkJob, job_id)


def _send(name, model, pk):
    try:
        send(name, pk)
    except BrokerError:
        log.exception("%s %s: could not reach the broker; requeue_stale_photos will resend it",
                      model._meta.model_name, pk)
        model.objects.filter(pk=pk).update(unsent=True)
        return False
    return True


def enqueue_listing_decision(listing_id):
    """Send the listing's decision; True if it was sent."""
    try:
        send(DECIDE_LISTING, listing_id)
    except BrokerError:
        log.exception("listing %s: could not reach the broker; it is decided again by the sweeper when a photo or "
                      "a staff decision or a photo's removal is newer than its decision, else by its next photo or review", listing_id)
        return False
    return True


def enqueue_threshold_refit():
    try:
        send(REFIT_THRESHOLDS)
    except BrokerError:
        log.exception("could not reach the broker; the scheduled refit_thresholds will catch up")


def enqueue_index_update(compact=False):
    """Send the index update; with `compact`, the index file is rewritten at once (after a category
    is renamed or moved: the heatmaps' head knows categories by their paths in the file)."""
    try:
        send(UPDATE_REFERENCE_INDEX, *((True,) if compact else ()))
    except BrokerError:
        log.exception("could not reach the broker; the scheduled update_reference_index will catch up")


def send(name, *args):
    """Send the task `name` with `args`; raises kombu's OperationalError if the broker is down."""
    if current_app.conf.task_always_eager:
        return registered_task(name).delay(*args)
    return current_app.send_task(name, args)


def registered_task(name):
    """The task `name` of this process's Celery app, its module imported if it is not yet. By its
    name, not by the loader's import_default_modules: that signals Django's Celery fixup, which sets
    Django up again (logging, the script prefix, the system checks) in the caller's thread."""
    if name not in current_app.tasks:
        import_module(name.rpartition(".")[0])
    return current_app.tasks[name]
