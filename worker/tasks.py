"""Celery tasks. They take ids, re-read their rows, and are safe to run twice.

Their names (worker.tasks.NAME) are in queued messages, in the routes and the schedule of
config/settings.py, and in catalog.tasks, which sends them: they stay. The work is done elsewhere
(categorizing, listings, catalog.bulk, sweeper, indexing, training); policy says what is retried.
"""

import logging
from functools import partial

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init

from catalog import audits, housekeeping
from catalog.bulk import give_up_job, run_job
from vision.images import InvalidImage

from .categorizing import TIME_LIMIT, categorize, claim, decide_listing_of
from .indexing import update_index
from .listings import update_listing_decision
from .models_cache import IndexNotReady, ModelUnavailable, SnapshotMissing, setup_problems
from .policy import (MAX_RETRIES, MISSING_FILE, TRANSIENT_ERRORS, backoff, deleted, fail, internal_error,
                     retry_or_give_up)
from .sweeper import requeue_lost
from .thresholds import refit_if_failing

log = logging.getLogger(__name__)


# A seller's words for a server whose catalogue or models are not ready: the log says what staff
# must do (and GET /health names the index).
NOT_SET_UP = ("Categorization is not set up on this server yet, so this photo was not categorized. Upload it "
              "again later, or contact support if this lasts.")


@worker_init.connect
def _refuse_to_start_unless_set_up(**kwargs):
    """A worker whose settings name a model this host lacks stops as it starts, saying which; it
    ran on, failing every photo for good. (SystemExit: Celery logs any other error of a signal
    receiver and carries on.)"""
    if problems := setup_problems():
        raise SystemExit("This worker cannot categorize photos: " + "; ".join(problems) + ".")


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=300, time_limit=TIME_LIMIT)
def categorize_photo(self, photo_id):
    try:
        # A retry after a passing error is the same attempt; a redelivery or a resend is another.
        photo = claim(photo_id, new_attempt=not self.request.retries)
        if photo is not None:
            categorize(photo)
        # Also on a redelivery: the first delivery may have stopped between the two.
        decide_listing_of(photo_id)
    except InvalidImage as error:
        fail(photo_id, str(error))
    except (IndexNotReady, ModelUnavailable) as error:
        log.error("photo %s: %s", photo_id, error)  # what staff must do: the seller can do nothing of it
        fail(photo_id, NOT_SET_UP)
    except FileNotFoundError:
        fail(photo_id, MISSING_FILE)
    except SoftTimeLimitExceeded:
        fail(photo_id, "Categorizing this photo took too long and was stopped. Try a smaller photo.")
    except TRANSIENT_ERRORS as error:
        if deleted(photo_id):
            return
        # An index missing from the storage is staff's to mend, not the seller's to retry at once.
        reason = (NOT_SET_UP if isinstance(error, SnapshotMissing)
                  else "Categorization kept failing ({}); try uploading again.")
        retry_or_give_up(self, error, f"photo {photo_id}", partial(fail, photo_id), reason)
    except Exception as error:
        if deleted(photo_id):
            return
        log.exception("photo %s: categorization failed", photo_id)
        fail(photo_id, internal_error(error))


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=60, time_limit=90)
def decide_listing(self, listing_id):
    """Make the listing's one decision again, after staff changed one of its items."""
    try:
        update_listing_decision(listing_id)
    except (IndexNotReady, ModelUnavailable) as error:
        log.error("listing %s: %s", listing_id, error)  # kept as it was: the sweeper or its next photo decides again
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries))


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=3600, time_limit=3660)
def import_bulk_job(self, job_id):
    """Make the listings of a bulk job's rows (catalog.bulk.run_job); a run again, after a fault,
    goes on from the rows not yet made."""
    try:
        run_job(job_id)
    except (*TRANSIENT_ERRORS, SoftTimeLimitExceeded) as error:
        retry_or_give_up(self, error, f"bulk job {job_id}", partial(give_up_job, job_id),
                         "The import kept failing ({}); send this row again.")
    except Exception as error:
        log.exception("bulk job %s: import failed", job_id)
        give_up_job(job_id, f"The import failed because of an internal error ({type(error).__name__}); send this "
                            "row again; if it keeps failing, contact support.")


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def requeue_stale_photos():
    """Resend the photos, bulk jobs and listing decisions that are lost (worker.sweeper); returns how many
    it resent."""
    return requeue_lost()


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def tidy_up():
    """Delete what is kept only for a while (catalog.housekeeping); {what: how many}."""
    return housekeeping.tidy_up()


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def draw_daily_audits():
    """Draw an audit for each top-level category accepted in the last day without one
    (catalog.audits); returns how many it drew."""
    return audits.draw_daily_audits()


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=120, time_limit=180)
def refit_thresholds(self):
    """Refit the auto-accept thresholds when audits show the promise failing (worker.thresholds):
    after every audit decision, and on a schedule. Returns how many thresholds rose."""
    try:
        return len(refit_if_failing())
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries))
    except IndexNotReady:
        return 0


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=600, time_limit=660)
def update_reference_index(self, compact=False):
    """Put new and changed references into the index: after a review decision or a category edit,
    and on a schedule, to catch up on any update whose message was lost. With `compact` (a category
    renamed or moved) the file is rewritten now, its heatmap head retrained on the paths as they are."""
    try:
        update_index(compact=compact)
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries))


@shared_task(acks_late=True, time_limit=24 * 3600)
def train_embedder_on_references(name, options=None, rebuild=False):
    """Train an embedder on the catalogue's references (worker.training) with `options`, a dict of
    vision.training.embedder.TrainingOptions fields (a message holds no dataclass; holdout_fraction,
    unless given, is the command's, HOLDOUT_FRACTION); meant for a GPU worker (-Q training). Returns
    the per-epoch history."""
    # Imported here: training needs PyTorch, which a worker that only categorizes lacks.
    from vision.training.embedder import TrainingOptions

    from .training import HOLDOUT_FRACTION, train_on_references

    options = {"holdout_fraction": HOLDOUT_FRACTION, **(options or {})}
    return train_on_references(TrainingOptions(name=name, **options), rebuild)
