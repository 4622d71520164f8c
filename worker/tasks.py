"""Celery tasks. They take ids, re-read their rows, and are safe to run twice."""

import io
import logging
from datetime import timedelta

import numpy as np
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import PATH_SEPARATOR, BulkJob, Item, Photo, ReferenceImage
from catalog.photos import store_display_images
from catalog.tasks import enqueue_bulk_job, enqueue_listing_decision, enqueue_photo
from vision.images import InvalidImage, load_image
from vision.text import lines_within, suggest_title

from .indexing import rebuild_index, update_index
from .listings import category_at, decision_fields, rounded, update_listing_decision
from .models_cache import IndexNotReady, ModelUnavailable, models

log = logging.getLogger(__name__)

# Retries wait 1, 2, 4 ... seconds, at most RETRY_WAIT_LIMIT: about 12 minutes in all, so that a
# database or a disk that comes back within minutes costs only time.
MAX_RETRIES = 15
RETRY_WAIT_LIMIT = 60
# A photo that crashed its worker this many times (killed, out of memory) is given up on.
MAX_ATTEMPTS = 3
# The sweeper resends a photo whose message is lost; duplicates are harmless because the task
# skips finished photos. Lost: its send failed (the broker was down); it is processing but no
# worker holds it (its worker was killed); it is queued while the queue is empty and no worker
# holds it (the broker lost its messages). When no worker answers, only these ages tell.
QUEUED_TOO_LONG = timedelta(hours=1)
PROCESSING_TOO_LONG = timedelta(minutes=15)
# Younger photos are left alone: their message or their claim may be on its way.
SETTLING_TIME = timedelta(seconds=30)
WORKER_REPLY_SECONDS = 3
# A lost database connection or a full disk can pass; a bad photo cannot.
TRANSIENT_ERRORS = (DatabaseError, OSError)
MISSING_FILE = "The photo file is missing from storage; upload it again."


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=300, time_limit=330)
def categorize_photo(self, photo_id):
    try:
        # A retry after a passing error is the same attempt; a redelivery or a resend is another.
        photo = _claim(photo_id, new_attempt=not self.request.retries)
        if photo is not None:
            _categorize(photo)
        # Also on a redelivery: the first delivery may have stopped between the two.
        _decide_listing_of(photo_id)
    except (InvalidImage, IndexNotReady) as error:
        _fail(photo_id, str(error))
    except ModelUnavailable as error:
        log.error("photo %s: %s", photo_id, error)
        _fail(photo_id, "The categorization models are not installed on this server yet; "
                        "try again later or contact support.")
    except FileNotFoundError:
        _fail(photo_id, MISSING_FILE)
    except SoftTimeLimitExceeded:
        _fail(photo_id, "Categorizing this photo took too long and was stopped. Try a smaller photo.")
    except TRANSIENT_ERRORS as error:
        if _deleted(photo_id):
            return
        if self.request.retries >= MAX_RETRIES:
            _fail(photo_id, f"Categorization kept failing ({type(error).__name__}); try uploading again.")
            return
        log.warning("photo %s: %r, retrying", photo_id, error)
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))
    except Exception as error:
        if _deleted(photo_id):
            return
        log.exception("photo %s: categorization failed", photo_id)
        _fail(photo_id, _internal_error(error))


def _internal_error(error):
    return (f"Categorization failed because of an internal error ({type(error).__name__}). "
            "Try uploading again; if it keeps failing, contact support.")


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=60, time_limit=90)
def decide_listing(self, listing_id):
    """Make the listing's one decision again, after staff changed one of its items."""
    try:
        update_listing_decision(listing_id)
    except (IndexNotReady, ModelUnavailable) as error:
        log.error("listing %s: %s", listing_id, error)  # kept as it was; the next photo decides again
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))


def _deleted(photo_id):
    """Whether the seller deleted the photo (its listing) while it was being categorized: what
    failed then was only the saving of a result nobody wants."""
    if Photo.objects.filter(pk=photo_id).exists():
        return False
    log.info("photo %s: deleted while it was being categorized", photo_id)
    return True


def _backoff(retries):
    return min(RETRY_WAIT_LIMIT, 2 ** retries)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=3600, time_limit=3660)
def import_bulk_job(self, job_id):
    """Make the listings of a bulk job's rows (catalog.bulk.run_job); a run again, after a fault,
    goes on from the rows not yet made."""
    from catalog.bulk import give_up_job, run_job  # catalog.bulk sends this task: imported late

    try:
        run_job(job_id)
    except (*TRANSIENT_ERRORS, SoftTimeLimitExceeded) as error:
        if self.request.retries >= MAX_RETRIES:
            give_up_job(job_id, f"The import kept failing ({type(error).__name__}); send this row again.")
            return
        log.warning("bulk job %s: %r, retrying", job_id, error)
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))
    except Exception as error:
        log.exception("bulk job %s: import failed", job_id)
        give_up_job(job_id, f"The import failed because of an internal error ({type(error).__name__}); send this "
                            "row again; if it keeps failing, contact support.")


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def requeue_stale_photos():
    """Resend the photos and bulk jobs whose message is lost (see QUEUED_TOO_LONG); a photo whose
    worker died is queued again, and one that keeps crashing workers fails when it is next
    claimed. Returns how many it resent."""
    now = timezone.now()
    held = _held_by_workers()
    held_photos = _ids(held, categorize_photo)
    photos = _orphaned(held_photos, now) | _lost_from_queue(held_photos, now)
    jobs = _lost_bulk_jobs(_ids(held, import_bulk_job), now)
    for enqueue, model, lost in ((enqueue_photo, Photo, photos), (enqueue_bulk_job, BulkJob, jobs)):
        for pk in sorted(lost):
            if enqueue(pk):
                model.objects.filter(pk=pk, unsent=True).update(unsent=False)
    return len(photos) + len(jobs)


def _ids(held, task):
    """Ids of what workers hold of the task; None when no worker answered."""
    return None if held is None else held.get(task.name, set())


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
    if categorize_photo.app.conf.task_always_eager:
        return None
    try:
        inspect = categorize_photo.app.control.inspect(timeout=WORKER_REPLY_SECONDS)
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
SWEPT_TASKS = {categorize_photo.name, import_bulk_job.name}


def _queue_is_empty():
    try:
        with categorize_photo.app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(
                queue=categorize_photo.app.conf.task_default_queue, passive=True)
    except ChannelError:  # Redis keeps no empty queue: "not found" is empty
        return True
    except (BrokerError, OSError):  # the broker is gone: assume messages wait in it
        return False
    return declared.message_count == 0


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=600, time_limit=660)
def update_reference_index(self):
    """Put new and changed references into the index: after a review decision or a category edit,
    and on a schedule, to catch up on any update whose message was lost."""
    try:
        update_index()
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))


@shared_task(acks_late=True, time_limit=24 * 3600)
def train_embedder_on_references(name, training_options=(), rebuild=False):
    """Train an embedder on the catalogue's references; meant for a GPU worker (-Q training).

    Returns the per-epoch history; with `rebuild`, the index is rebuilt with the new embedder.
    """
    from vision.catalogue import CatalogueImage
    from vision.training.train_embedder import get_args_parser, train

    references = ReferenceImage.objects.select_related("category").order_by("pk")
    images = [CatalogueImage(r.image.path, r.category.names) for r in references]
    args = get_args_parser().parse_args(["--data", "the catalogue's reference images", "--name", name,
                                         *training_options])
    history = train(images, args)
    if rebuild:
        rebuild_index(name)
    return history


def _claim(photo_id, new_attempt):
    """Mark the photo processing; None if it is gone or already finished (a duplicate delivery)."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.status in (Photo.Status.DONE, Photo.Status.FAILED) or _held(photo):
            return None
        if photo.attempts >= MAX_ATTEMPTS:
            _fail(photo_id, f"This photo stopped the categorization {photo.attempts} times; "
                            "try a different photo or contact support.")
            return None
        photo.status, photo.started = Photo.Status.PROCESSING, timezone.now()
        photo.attempts += new_attempt
        photo.save(update_fields=["status", "started", "attempts"])
    return photo


def _held(photo):
    """Whether another worker is categorizing the photo together with its own (_companions)."""
    return photo.status == Photo.Status.PROCESSING and photo.held_until is not None \
        and photo.held_until > timezone.now()


def _categorize(photo):
    """Categorize the photo, together with the companions claimed beside it in one pass; each
    companion's result is written, and its failure recorded, on its own."""
    image = _decoded(photo)
    categorizer, segmenter = models.categorizer(), models.segmenter()
    companions = _companions(photo)
    try:
        found = categorizer.categorize_photos([image, *(decoded for _, decoded in companions)], segmenter)
    except Exception as error:
        _release([companion for companion, _ in companions])
        if not companions or isinstance(error, (SoftTimeLimitExceeded, *TRANSIENT_ERRORS)):
            raise
        # Which photo broke the pass is not known: the others go back to their own tasks.
        companions, found = [], categorizer.categorize_photos([image], segmenter)
    for (companion, companion_image), its_items in zip(companions, found[1:]):
        _finish_companion(companion, companion_image, its_items, categorizer, segmenter)
    _save_results(photo, image, found[0], categorizer, segmenter)


def _decoded(photo):
    with photo.image.open("rb") as handle:
        return load_image(handle)


def _companions(photo):
    """Up to CATALOG_BATCH_PHOTOS - 1 other photos waiting in the queue, claimed and decoded: a GPU
    wants batches. Only photos no worker has started on are taken (one that was in a pass that
    went wrong runs alone next time), each held (held_until) so that its own task skips it; one
    that cannot be decoded fails on its own."""
    count = settings.CATALOG_BATCH_PHOTOS - 1
    if count <= 0:
        return []
    now = timezone.now()
    with transaction.atomic():
        claimed = list(Photo.objects.select_for_update(skip_locked=True)
                       .filter(status=Photo.Status.QUEUED, attempts=0).order_by("pk")[:count])
        for companion in claimed:
            companion.status, companion.started, companion.attempts = Photo.Status.PROCESSING, now, 1
            companion.held_until = now + timedelta(seconds=categorize_photo.time_limit)
        Photo.objects.bulk_update(claimed, ["status", "started", "attempts", "held_until"])
    decoded = []
    for companion in claimed:
        try:
            decoded.append((companion, _decoded(companion)))
        except InvalidImage as error:
            _fail(companion.pk, str(error))
        except FileNotFoundError:
            _fail(companion.pk, MISSING_FILE)
        except TRANSIENT_ERRORS:
            _release([companion])
    return decoded


def _release(companions):
    """Give claimed companions that are not done back to their own tasks (sent again: a message
    may have been skipped while they were held)."""
    ids = [companion.pk for companion in companions]
    Photo.objects.filter(pk__in=ids, status=Photo.Status.PROCESSING).update(status=Photo.Status.QUEUED,
                                                                            held_until=None)
    for pk in ids:
        transaction.on_commit(lambda pk=pk: enqueue_photo(pk))


def _finish_companion(photo, image, found, categorizer, segmenter):
    """Write a companion's result and decide its listing; what goes wrong is the companion's alone."""
    try:
        _save_results(photo, image, found, categorizer, segmenter)
        _decide_listing_of(photo.pk)
    except Exception as error:
        if _deleted(photo.pk):
            return
        if isinstance(error, TRANSIENT_ERRORS):
            log.warning("photo %s: %r, back to its own task", photo.pk, error)
            _release([photo])
            return
        log.exception("photo %s: categorization failed", photo.pk)
        _fail(photo.pk, _internal_error(error))


def _save_results(photo, image, found, categorizer, segmenter):
    if not photo.display:  # made here, from the decoded photo, rather than while the upload waits
        store_display_images(photo, image)
    reader = models.text_reader() if _is_first_photo(photo) else None
    lines = reader.read(image) if reader else []
    item_lines = [lines_within(lines, item.box) for item, _ in found]
    with transaction.atomic():
        photo.items.all().delete()  # a redelivered task starts over
        for (item, result), read in zip(found, item_lines):
            crop_box = item.crop_box(image.size)
            saved = Item(photo=photo, box=list(item.box), outline=item.outline(), crop_box=list(crop_box),
                         embedding=result.embedding.astype(np.float32).tobytes(),
                         embedding_version=categorizer.embedder.weights.version,
                         text_read=[[line.text, line.score] for line in read],
                         **_item_fields(result.assignment, result.decision))
            _attach_heatmap(saved, categorizer, result, crop_box)
            saved.save()
        photo.status, photo.finished = Photo.Status.DONE, timezone.now()
        # Items come largest first: the title is read off the main one.
        photo.suggested_title = suggest_title(item_lines[0]) if found else ""
        photo.model_version = "+".join([categorizer.model_version] + [
            f"{part}:{model.version}" for part, model in (("segmenter", segmenter), ("text", reader)) if model])
        photo.index_version = categorizer.index.revision
        photo.failure_reason = ""
        photo.held_until = None
        photo.save()


def _is_first_photo(photo):
    """Text is read on a listing's first photo only: the title it suggests needs one, and reading
    costs about as much CPU as the categorization itself (bench/README.md)."""
    return not Photo.objects.filter(listing_id=photo.listing_id, pk__lt=photo.pk).exists()


def _item_fields(assignment, decision):
    references = {pk: (uuid, source) for pk, uuid, source in ReferenceImage.objects.filter(
        pk__in=[n.reference_id for n in assignment.neighbours]).values_list("pk", "uuid", "source")}
    fields = decision_fields(decision)
    return {
        **fields,
        "confidence": round(decision.confidences[-1], 4) if fields["category"] else 0.0,
        "calibrated": decision.calibrated,
        "risk": round(decision.risk, 4),
        "predicted_path": PATH_SEPARATOR.join(decision.predicted),
        "predicted_category": category_at(decision.predicted),
        "predicted_confidences": rounded(decision.predicted_confidences),
        "top_similarity": round(decision.top_similarity, 4),
        "alternatives": [{"path": PATH_SEPARATOR.join(p), "category": _pk(category_at(p)), "confidence": round(c, 4)}
                         for p, c in assignment.alternatives],
        "neighbours": [{"reference": str(references[n.reference_id][0]), "path": PATH_SEPARATOR.join(n.category),
                        "similarity": round(n.similarity, 4),
                        "shared": references[n.reference_id][1] == ReferenceImage.Source.IMPORT}
                       for n in assignment.neighbours if n.reference_id in references],
    }


def _pk(row):
    return row.pk if row else None


def _attach_heatmap(item, categorizer, result, crop_box):
    """The class-activation map of the item's category, as a PNG overlay of its crop and raw."""
    from vision.cam import compact

    heatmap = categorizer.heatmap(result, crop_box)
    if heatmap is None:
        return
    explanation, overlay = heatmap
    buffer = io.BytesIO()
    overlay.save(buffer, "PNG")
    item.heatmap.save("heatmap.png", ContentFile(buffer.getvalue()), save=False)
    item.heatmap_category = PATH_SEPARATOR.join(explanation.category)
    item.heatmap_of = category_at(explanation.category)
    item.activation = compact(explanation.activation)


def _decide_listing_of(photo_id):
    """Decide the listing of a categorized photo again. Whatever goes wrong here is not the
    photo's fault, so it never fails the photo: a transient error retries the task (which skips
    the finished photo), anything else is logged and the next photo or review decides again."""
    done = Photo.objects.filter(pk=photo_id, status=Photo.Status.DONE)
    listing_id = done.values_list("listing_id", flat=True).first()
    if listing_id is None:
        return
    try:
        update_listing_decision(listing_id)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        log.exception("listing %s: its decision could not be made", listing_id)


def _fail(photo_id, reason):
    Photo.objects.filter(pk=photo_id).update(status=Photo.Status.FAILED, failure_reason=reason,
                                             finished=timezone.now())
    listing_id = Photo.objects.filter(pk=photo_id).values_list("listing_id", flat=True).first()
    if listing_id is not None:  # the failed photo no longer counts
        transaction.on_commit(lambda: enqueue_listing_decision(listing_id))
