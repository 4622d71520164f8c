"""How the tasks meet errors: the passing ones are retried, after waits that grow (the retry
ladder); a photo that cannot be categorized fails with a reason its seller can read.
"""

import logging
import random

from django.db import DatabaseError, transaction
from django.utils import timezone

from catalog.models import Photo
from catalog.storage import STORAGE_ERRORS
from catalog.tasks import enqueue_listing_decision

log = logging.getLogger(__name__)

# Retries wait about 1, 2, 4 ... seconds, at most RETRY_WAIT_LIMIT: about 9 minutes in all, so that
# a database or a disk that comes back within minutes costs only time. Each wait is between half
# and all of its step, at random ("equal jitter"): tasks that met the same outage do not all come
# back at the same instant and knock the database over again.
MAX_RETRIES = 15
RETRY_WAIT_LIMIT = 60
# A lost database connection, a full disk or a storage that does not answer can pass; a bad photo cannot.
TRANSIENT_ERRORS = (DatabaseError, *STORAGE_ERRORS)
MISSING_FILE = "The photo file is missing from storage; upload it again."


def backoff(retries):
    step = min(RETRY_WAIT_LIMIT, 2 ** retries)
    return step / 2 + random.uniform(0, step / 2)


def retry_or_give_up(task, error, what, give_up, reason):
    """Retry the bound `task` after a passing `error`, the wait growing each time; once its
    retries are spent, give_up(reason), `reason` naming the error's type in its {}. `what` names
    the row in the log ("photo 12")."""
    if task.request.retries >= MAX_RETRIES:
        give_up(reason.format(type(error).__name__))
        return
    log.warning("%s: %r, retrying", what, error)
    raise task.retry(exc=error, countdown=backoff(task.request.retries))


def internal_error(error):
    return (f"Categorization failed because of an internal error ({type(error).__name__}). "
            "Try uploading again; if it keeps failing, contact support.")


def deleted(photo_id):
    """Whether the seller deleted the photo (its listing) while it was being categorized: what
    failed then was only the saving of a result nobody wants. When the database itself is what
    failed, the answer is no: the photo is retried, and the retry finds out (asking here raised,
    and the task ended without a retry, leaving the photo to the sweeper)."""
    try:
        if Photo.objects.filter(pk=photo_id).exists():
            return False
    except DatabaseError:
        return False
    log.info("photo %s: deleted while it was being categorized", photo_id)
    return True


def fail(photo_id, reason):
    Photo.objects.filter(pk=photo_id).update(status=Photo.Status.FAILED, failure_reason=reason,
                                             finished=timezone.now())
    listing_id = Photo.objects.filter(pk=photo_id).values_list("listing_id", flat=True).first()
    if listing_id is not None:  # the failed photo no longer counts
        transaction.on_commit(lambda: enqueue_listing_decision(listing_id))
