"""The sweeper: it resends the photos and bulk jobs whose message is lost, and the decisions of
listings left behind their photos or staff's decisions (requeue_lost, run by the task
requeue_stale_photos on a schedule, and by the command of that name; the embedded mode's worker
asks listings_left_behind when it starts).
"""

import logging
from datetime import timedelta

from celery import current_app
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import BulkJob, Listing, Photo, ReviewDecision
from catalog.tasks import CATEGORIZE_PHOTO, IMPORT_BULK_JOB, enqueue_bulk_job, enqueue_listing_decision, enqueue_photo

log = logging.getLogger(__name__)

# The sweeper resends a photo whose message is lost; duplicates are harmless because the task
# skips finished photos. Lost: its send failed (the broker was down); it is processing but no
# worker holds it (its worker was killed); it is queued while the queue is empty and no worker
# holds it (the broker lost its messages). When no worker answers, only these ages tell.
QUEUED_TOO_LONG = timedelta(hours=1)
PROCESSING_TOO_LONG = timedelta(minutes=15)
# Younger photos are left alone: their message or their claim may be on its way.
SETTLING_TIME = timedelta(seconds=30)
WORKER_REPLY_SECONDS = 3
# A listing's decision is made after each of its photos and each staff decision about its items;
# one that failed (its message lost, the index not ready) is made again by the sweeper. Only
# recent ones are looked for: the sweeper runs every CATALOG_SWEEP_SECONDS.
DECISIONS_LOOKED_BACK = timedelta(days=2)


def requeue_lost():
    """Resend the photos and bulk jobs whose message is lost (see QUEUED_TOO_LONG); a photo whose
    worker died is queued again, and one that keeps crashing workers fails when it is next
    claimed. Returns how many it resent: a message the broker did not take is not counted (its
    photo or job is marked unsent, and the next sweep tries again)."""
    now = timezone.now()
    held = _held_by_workers()
    held_photos = _ids(held, CATEGORIZE_PHOTO)
    photos = _orphaned(held_photos, now) | _lost_from_queue(held_photos, now)
    jobs = _lost_bulk_jobs(_ids(held, IMPORT_BULK_JOB), now)
    sent = 0
    for enqueue, model, lost in ((enqueue_photo, Photo, photos), (enqueue_bulk_job, BulkJob, jobs)):
        for pk in sorted(lost):
            if enqueue(pk):
                model.objects.filter(pk=pk, unsent=True).update(unsent=False)
                sent += 1
    # A decision's message may wait behind a busy queue: resent only when the queue is empty, or an
    # hour on (as a queued photo), so that a backlog is not lengthened every sweep.
    late = now - (SETTLING_TIME if _queue_is_empty() else QUEUED_TOO_LONG)
    listings = listings_left_behind(now - DECISIONS_LOOKED_BACK, late)
    return sent + sum(enqueue_listing_decision(pk) for pk in sorted(listings))


def listings_left_behind(since, until):
    """Ids of the listings whose decision is older than what changed between `since` (None: ever)
    and `until`: a photo categorized (unless their seller chose the category, which photos do not
    change), a staff decision about one of their items (which shows "Updating the category…" until
    it is made), or a photo removed."""
    def between(field):
        return Q(**{f"{field}__lt": until}) & (Q(**{f"{field}__gte": since}) if since else Q())

    photos = (Photo.objects.filter(between("finished"), status=Photo.Status.DONE, listing__category_chosen=False)
              .filter(Q(listing__decided=None) | Q(finished__gt=F("listing__decided"))))
    reviewed = (ReviewDecision.objects.filter(between("created"))
                .filter(Q(item__photo__listing__decided=None) | Q(created__gt=F("item__photo__listing__decided"))))
    removed = (Listing.objects.filter(between("photos_removed"))
               .filter(Q(decided=None) | Q(photos_removed__gt=F("decided"))))
    return (set(photos.values_list("listing_id", flat=True))
            | set(reviewed.values_list("item__photo__listing_id", flat=True))
            | set(removed.values_list("pk", flat=True)))


def _ids(held, name):
    """Ids of what workers hold of the task; None when no worker answered."""
    return None if held is None else held.get(name, set())


def _orphaned(held, now):
    """Ids of photos processing on no worker, queued again (a photo held in another's pass is on one)."""
    processing = Photo.objects.filter(status=Photo.Status.PROCESSING).exclude(held_until__gt=now)
    if held is None:
        processing = processing.filter(started__lt=now - PROCESSING_TOO_LONG)
    else:
        processing = processing.filter(started__lt=now - SETTLING_TIME).exclude(pk__in=held)
    photo_ids = set(processing.values_list("pk", flat=True))
    Photo.objects.filter(pk__in=photo_ids, status=Photo.Status.PROCESSING).update(status=Photo.Status.QUEUED)
    return photo_ids


def _lost_from_queue(held, now):
    queued = _not_waiting(Photo.objects.filter(status=Photo.Status.QUEUED), held, now)
    return set(queued.values_list("pk", flat=True))


def _lost_bulk_jobs(held, now):
    """Ids of the unfinished jobs whose message is lost: pending ones as queued photos, and
    importing ones no worker holds (their worker is gone) when the workers answered."""
    pending = _not_waiting(BulkJob.objects.filter(status=BulkJob.Status.PENDING), held, now)
    lost = set(pending.values_list("pk", flat=True))
    if held is not None:
        importing = BulkJob.objects.filter(status=BulkJob.Status.IMPORTING, created__lt=now - SETTLING_TIME)
        lost |= set(importing.exclude(pk__in=held).values_list("pk", flat=True))
    return lost


def _not_waiting(queued, held, now):
    """Of the queued rows (photos or jobs), those whose message is not waiting in the queue."""
    queued = queued.filter(created__lt=now - SETTLING_TIME).exclude(pk__in=held or ())
    if held is None or not _queue_is_empty():  # their messages may still be waiting in the queue
        queued = queued.filter(Q(unsent=True) | Q(created__lt=now - QUEUED_TOO_LONG))
    return queued


def _held_by_workers():
    """{task name: ids} of what workers are on, have been handed, or wait to retry; None when no
    worker answers."""
    if current_app.conf.task_always_eager:
        return None
    try:
        inspect = current_app.control.inspect(timeout=WORKER_REPLY_SECONDS)
        replies = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    except (BrokerError, OSError):
        log.exception("could not ask the workers what they hold")
        return None
    return _held_ids(replies) if any(replies) else None


def _held_ids(replies):
    """{task name: ids} of the swept tasks in the workers' inspect replies ({worker: [task]})."""
    held = {}
    for reply in replies:
        for tasks in (reply or {}).values():
            for task in tasks:
                task = task.get("request", task)  # a scheduled task (a retry's countdown) is wrapped
                # Others (a training run, named by a text) are not the sweeper's.
                if task.get("name") in SWEPT_TASKS and task.get("args"):
                    held.setdefault(task["name"], set()).add(int(task["args"][0]))
    return held


# The tasks whose lost messages the sweeper resends; each takes the id of its row first.
SWEPT_TASKS = {CATEGORIZE_PHOTO, IMPORT_BULK_JOB}


def _queue_is_empty():
    try:
        with current_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(
                queue=current_app.conf.task_default_queue, passive=True)
    except ChannelError:  # Redis keeps no empty queue: "not found" is empty
        return True
    except (BrokerError, OSError):  # the broker is gone: assume messages wait in it
        return False
    return declared.message_count == 0
