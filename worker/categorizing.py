"""Categorizing a photo: claiming it, taking queued photos beside it into one pass (a GPU wants
batches), and saving each photo's items; what goes wrong with one photo is that photo's alone.
"""

import logging
from datetime import timedelta

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.audits import drawn_for_audit
from catalog.models import Item, Photo, ReferenceImage
from catalog.photos import store_display_images
from catalog.tasks import enqueue_photo
from vision.catalogue import format_path
from vision.images import InvalidImage, load_image
from vision.text import lines_within, suggest_title

from .heatmaps import attach_heatmap
from .listings import category_at, decision_fields, rounded, update_listing_decision
from .models_cache import models
from .policy import MISSING_FILE, TRANSIENT_ERRORS, deleted, fail, internal_error

log = logging.getLogger(__name__)

# A photo that crashed its worker this many times (killed, out of memory) is given up on.
MAX_ATTEMPTS = 3
# categorize_photo's time limit: a photo taken into another's pass is held (held_until) as long.
TIME_LIMIT = 330


def claim(photo_id, new_attempt):
    """Mark the photo processing; None if it is gone or already finished (a duplicate delivery)."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.status in (Photo.Status.DONE, Photo.Status.FAILED) or _held(photo):
            return None
        if photo.attempts >= MAX_ATTEMPTS:
            fail(photo_id, f"This photo stopped the categorization {photo.attempts} times; "
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


def categorize(photo):
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
            companion.held_until = now + timedelta(seconds=TIME_LIMIT)
        Photo.objects.bulk_update(claimed, ["status", "started", "attempts", "held_until"])
    decoded = []
    for companion in claimed:
        try:
            decoded.append((companion, _decoded(companion)))
        except InvalidImage as error:
            fail(companion.pk, str(error))
        except FileNotFoundError:
            fail(companion.pk, MISSING_FILE)
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
        decide_listing_of(photo.pk)
    except Exception as error:
        if deleted(photo.pk):
            return
        if isinstance(error, TRANSIENT_ERRORS):
            log.warning("photo %s: %r, back to its own task", photo.pk, error)
            _release([photo])
            return
        log.exception("photo %s: categorization failed", photo.pk)
        fail(photo.pk, internal_error(error))


def _save_results(photo, image, found, categorizer, segmenter):
    # A page may have made the display copies since the photo was claimed (catalog.listings.shown_image).
    photo.refresh_from_db(fields=["display", "thumbnail"])
    if not photo.display:  # made here, from the decoded photo, rather than while the upload waits
        store_display_images(photo, image)
    reader = models.text_reader() if _is_first_photo(photo) else None
    lines = reader.read(image) if reader else []
    item_lines = [lines_within(lines, item.box) for item, _ in found]
    # Made before the photo is locked (its class-activation maps take a while): a seller removing
    # the photo waits for no more than the save.
    items = [_new_item(photo, image, item, result, read, categorizer)
             for (item, result), read in zip(found, item_lines)]
    heatmaps = [item.heatmap for item in items if item.heatmap]
    try:
        with transaction.atomic():
            # First of the callbacks: once committed, rows name the heatmaps, whatever a later one raises.
            transaction.on_commit(heatmaps.clear)
            _save_items(photo, items, item_lines, categorizer, segmenter, reader)
    except Exception:
        for heatmap in heatmaps:  # no saved row names them: nothing else would remove them
            heatmap.delete(save=False)
        raise


def _new_item(photo, image, item, result, read, categorizer):
    """The unsaved Item of a found item, its heatmap stored."""
    crop_box = item.crop_box(image.size)
    new = Item(photo=photo, box=list(item.box), outline=item.outline(), crop_box=list(crop_box),
               embedding=result.embedding.astype(np.float32).tobytes(),
               embedding_version=categorizer.embedder.weights.version,
               text_read=[[line.text, line.score] for line in read],
               **_item_fields(result.assignment, result.decision))
    attach_heatmap(new, categorizer, result, crop_box)
    return new


def _save_items(photo, items, item_lines, categorizer, segmenter, reader):
    # Locked until saved: a seller removing the photo waits for this, so its files as saved go
    # with it. Removed already, there is nothing to save (a plain save would insert it again).
    if not Photo.objects.select_for_update().filter(pk=photo.pk).exists():
        raise Photo.DoesNotExist(f"photo {photo.pk} was removed while it was categorized")
    photo.items.all().delete()  # a redelivered task starts over
    for item in items:
        item.save()
    photo.status, photo.finished = Photo.Status.DONE, timezone.now()
    # The main item comes first: the title is read off it.
    photo.suggested_title = suggest_title(item_lines[0]) if items else ""
    photo.model_version = "+".join([categorizer.model_version] + [
        f"{part}:{model.version}" for part, model in (("segmenter", segmenter), ("text", reader)) if model])
    photo.index_version = categorizer.index.revision
    photo.failure_reason = ""
    photo.held_until = None
    photo.save(update_fields=["status", "finished", "suggested_title", "model_version", "index_version",
                              "failure_reason", "held_until"])


def _is_first_photo(photo):
    """Text is read on a listing's first photo only: the title it suggests needs one, and reading
    costs about as much CPU as the categorization itself (bench/README.md)."""
    return not Photo.objects.filter(listing_id=photo.listing_id, pk__lt=photo.pk).exists()


def _item_fields(assignment, decision):
    references = {pk: (uuid, source) for pk, uuid, source in ReferenceImage.objects.filter(
        pk__in=[n.reference_id for n in assignment.context]).values_list("pk", "uuid", "source")}
    fields = decision_fields(decision)
    return {
        **fields,
        "confidence": round(decision.confidences[-1], 4) if fields["category"] else 0.0,
        "audit": drawn_for_audit(decision.outcome),
        "risk": round(decision.risk, 4),
        "predicted_path": format_path(decision.predicted),
        "predicted_category": category_at(decision.predicted),
        "predicted_confidences": rounded(decision.predicted_confidences),
        "top_similarity": round(decision.top_similarity, 4),
        "alternatives": [{"path": format_path(p), "category": _pk(category_at(p)), "confidence": round(c, 4)}
                         for p, c in assignment.alternatives if p != decision.predicted],
        "neighbours": [{"reference": str(references[n.reference_id][0]), "path": format_path(n.category),
                        "similarity": round(n.similarity, 4),
                        "shared": references[n.reference_id][1] == ReferenceImage.Source.IMPORT}
                       for n in assignment.context if n.reference_id in references],
    }


def _pk(row):
    return row.pk if row else None


def decide_listing_of(photo_id):
    """Decide the listing of a categorized photo again. Whatever goes wrong here is not the
    photo's fault, so it never fails the photo: a transient error retries the task (which skips
    the finished photo), anything else is logged and the sweeper decides again (worker.sweeper)."""
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
