"""Building the FAISS index from the ReferenceImage rows, embedding only what is new, and keeping
running workers' indexes current without rewriting the file.

Every change to a reference is a ReferenceChange row. A worker applies those newer than its index
to it in memory before each photo (worker.index_rows.ChangeFeed), so a staff correction is used
within a photo of being committed; the file is rewritten only by a compaction (update_index), when
enough changes have gathered or the oldest has waited long enough, and a worker starting cold
loads that file plus the changes since. Where hosts share no disk (CATALOG_INDEX_SNAPSHOTS), each
rewrite is published to the storage as a snapshot (worker.index_snapshots), which every other host
fetches.
"""

import fcntl
import logging
import os
import shutil
import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from operator import attrgetter

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from tqdm import tqdm

from catalog.models import IndexSnapshot, ReferenceChange, ReferenceImage
from vision.calibration import (MIN_CALIBRATION_QUERIES, calibration_is_stale, fitted_on_these_features,
                                left_out_accuracy, refresh_calibration)
from vision.cam import head_is_stale, refresh_head
from vision.catalogue import parse_path
from vision.content_keys import content_key_of_bytes
from vision.embedding_cache import EmbeddingCache
from vision.files import replaced_atomically
from vision.fold_predictions import of_weights
from vision.images import load_in_batches
from vision.index import ReferenceIndex, read_manifest
from vision.splits import GROUPING_BACKBONE

from . import index_snapshots
from .index_rows import CHANGE_SETTLE_SECONDS, add_references, indexable, needs_novelty_space
from .models_cache import ModelUnavailable, models

log = logging.getLogger(__name__)
BATCH_SIZE = 32
# A rebuild that changes the embedder (or embeds every reference again) takes over only if the new
# index holds every reference the serving one does and is no less accurate, by more than this, on
# the references neither embedder trained on, each voted on without its occasion
# (vision.calibration.left_out_accuracy): the same photos, so only the embedder differs.
SWITCH_TOLERANCE = 0.005
# The index a switch replaced, kept beside the current one for roll_back_index.
PREVIOUS_SUFFIX = ".previous"
# The PostgreSQL advisory lock index_lock takes (any number the app uses for nothing else).
INDEX_LOCK_KEY = 7_316_405_221


class SwitchRefused(RuntimeError):
    """A new index failed its check; the serving one stays. The message says why."""


class NothingToRollBack(RuntimeError):
    """No switch has kept a previous index."""


def embed_references(backbone_name=None, show_progress=False, use_cache=True):
    """Embed every reference not yet embedded by the backbone (and, for a backbone other than the
    grouping one, by that one too: see needs_novelty_space); return the unreadable ones. What the
    embedding cache (CATALOG_EMBEDDING_CACHE) holds for a reference's content and the model's
    version is taken from there, unless `use_cache` is off."""
    _fill_content_keys()
    cache = _embedding_cache()
    try:
        embedder = models.embedder(backbone_name)
        unreadable = _embed_stale(embedder, "embedding", show_progress, cache, use_cache)
        if needs_novelty_space(embedder.weights):
            unreadable += _embed_stale(models.embedder(GROUPING_BACKBONE), "novelty_embedding", show_progress,
                                       cache, use_cache)
    finally:
        if cache is not None:
            cache.close()
    return unreadable


# The cache only saves time: a cache that cannot be read or written (a full disk, a damaged file)
# is embedding without it, never a failed index update.
CACHE_ERRORS = (OSError, sqlite3.Error)


def _embedding_cache():
    """The embedding cache, or None when there is none or it cannot be opened (a read-only home):
    embedding then goes on without it, as before it existed."""
    if not settings.CATALOG_EMBEDDING_CACHE:
        return None
    try:
        return EmbeddingCache(settings.CATALOG_EMBEDDING_CACHE)
    except CACHE_ERRORS as error:
        log.warning("embedding without the cache %s: %s", settings.CATALOG_EMBEDDING_CACHE, error)
        return None


def _embed_stale(embedder, field, show_progress, cache, use_cache):
    """Store `embedder`'s embeddings in `field` (and its version beside it) of the references
    that lack them, from the cache where it has them; return the unreadable ones."""
    version = embedder.weights.version
    stale = list(ReferenceImage.objects.exclude(**{VERSION_FIELDS[field]: version}).order_by("pk"))
    cached = _cached(cache, version, stale, embedder.weights.feature_dim) if use_cache else {}
    for start in range(0, len(stale), 1000):
        chunk = stale[start:start + 1000]
        _store(field, version, [(r, cached[r.content_key]) for r in chunk if r.content_key in cached])
    to_embed = [reference for reference in stale if reference.content_key not in cached]
    unreadable = []
    # tqdm's bar gives the time left, from the rate so far.
    with tqdm(total=len(to_embed), desc=f"{field.replace('_', ' ')}s", unit="img", disable=not show_progress,
              postfix={"from the cache": len(stale) - len(to_embed)}) as bar:
        for readable, images, failed in load_in_batches(to_embed, BATCH_SIZE, attrgetter("image.name"), bar,
                                                        read=_stored_bytes):
            unreadable.extend(failed)
            if images:
                embedded = list(zip(readable, embedder.embed(images)))
                _store(field, version, embedded)
                _keep(cache, version, embedded)
    return unreadable


def _cached(cache, version, references, dimensions):
    if cache is None:
        return {}
    try:
        return cache.get_many(version, [reference.content_key for reference in references], dimensions)
    except CACHE_ERRORS as error:
        log.warning("embedding cache unreadable, embedding without it: %s", error)
        return {}


def _keep(cache, version, embedded):
    if cache is None:
        return
    try:
        cache.put_many(version, {reference.content_key: vector for reference, vector in embedded})
    except CACHE_ERRORS as error:
        log.warning("embedding cache not written: %s", error)


def _store(field, version, embedded):
    """Save [(reference, embedding)] in `field`, with `version` beside it, and record the change."""
    if not embedded:
        return
    for reference, embedding in embedded:
        setattr(reference, field, np.asarray(embedding, dtype=np.float32).tobytes())
        setattr(reference, VERSION_FIELDS[field], version)
    references = [reference for reference, _ in embedded]
    ReferenceImage.objects.bulk_update(references, [field, VERSION_FIELDS[field]])
    ReferenceChange.record(reference.pk for reference in references)


VERSION_FIELDS = {"embedding": "embedding_version", "novelty_embedding": "novelty_version"}


def _fill_content_keys():
    """Give references stored before content keys were kept (or whose file was replaced) theirs."""
    missing = list(ReferenceImage.objects.filter(content_key=""))
    for reference in missing:
        try:
            reference.content_key = content_key_of_bytes(_stored_bytes(reference))
        except OSError:
            continue  # embedding reports the unreadable file
    ReferenceImage.objects.bulk_update(missing, ["content_key"])


def _stored_bytes(reference):
    """The reference photo's bytes, from whichever storage holds it (a bucket has no file paths)."""
    with reference.image.open("rb") as handle:
        return handle.read()


def build_index(backbone_name=None):
    """A ReferenceIndex of every reference embedded with the backbone."""
    weights = models.embedder(backbone_name).weights
    index = ReferenceIndex(weights.feature_dim, weights.name, weights.version)
    add_references(index, indexable(weights, models), weights, find_occasions=True)
    return index


def index_backbone():
    """The backbone of the current index, or None when there is no index yet."""
    snapshot = IndexSnapshot.newest() if settings.CATALOG_INDEX_SNAPSHOTS else None
    if snapshot is not None:
        return snapshot.backbone
    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return None
    return read_manifest(settings.CATALOG_INDEX_PATH)["backbone"]


def index_is_stale():
    """Whether the index was built by other weights than its backbone's name now loads (retrained,
    or quantized anew, since): a worker refuses to serve it until it is rebuilt."""
    if settings.CATALOG_INDEX_SNAPSHOTS:
        index_snapshots.fetch()
    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return False
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    try:
        return manifest["backbone_version"] != models.embedder(manifest["backbone"]).weights.version
    except ModelUnavailable:
        return False  # not loadable here at all: the worker says what is missing, a rebuild would fail too


@contextmanager
def index_lock():
    """Held by whoever rewrites the index file, so that two writers never undo each other's work
    (a review adding a reference while a rebuild runs). Readers need no lock: saves are atomic.
    On PostgreSQL it is an advisory lock, which holds across hosts; on SQLite (one host) a lock
    file. With snapshots, the holder first fetches the newest, which another host may have written."""
    with (_database_lock() if connection.vendor == "postgresql" else _file_lock()):
        if settings.CATALOG_INDEX_SNAPSHOTS:
            index_snapshots.fetch()
        yield


@contextmanager
def _database_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [INDEX_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [INDEX_LOCK_KEY])


@contextmanager
def _file_lock():
    path = f"{settings.CATALOG_INDEX_PATH}.lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def rebuild_index(backbone_name=None, show_progress=False, re_embed=False, force=False):
    """Embed what is new (with `re_embed`, every reference again), build a new index from the
    reference rows and atomically replace the current one; return (index, unreadable).

    Without `backbone_name` the index keeps the backbone it has (CATALOG_BACKBONE for a first
    index). Workers keep using the previous index and its backbone until the new file is in place
    (the rows they hold stay while the references are embedded anew: apply_reference_changes).
    A new embedder's index (or a re-embedded one) must pass check_switch first, unless `force`;
    the index it replaces is kept for roll_back_index.
    """
    with index_lock():
        return _rebuild_locked(backbone_name, show_progress, re_embed, force)


def _rebuild_locked(backbone_name, show_progress, re_embed, force, keep_previous=True):
    through = settled_change()
    backbone_name = backbone_name or index_backbone() or settings.CATALOG_BACKBONE
    if re_embed:
        models.embedder(backbone_name)  # a name that cannot be loaded is refused before any embedding is forgotten
        ReferenceImage.objects.update(embedding=None, embedding_version="")
    unreadable = embed_references(backbone_name, show_progress, use_cache=not re_embed)
    index = build_index(backbone_name)
    serving = _serving_index()
    switching = serving is not None and (re_embed or serving.backbone_version != index.backbone_version)
    if switching and not force:
        try:
            log.warning("%s", check_switch(serving, index))  # staff switching models want to see it
        except SwitchRefused:
            # The stored embeddings go back to the serving index's (from the cache, where it has them).
            embed_references(serving.backbone_name, show_progress)
            raise
    _save(index, through, keep_previous=switching and keep_previous)
    return index, unreadable


def check_switch(serving, new):
    """Raise SwitchRefused unless `new` holds every reference `serving` does that still exists,
    and is at most SWITCH_TOLERANCE less accurate on the references neither embedder trained on
    (left_out_accuracy, on the same photos); return what was compared, for staff."""
    existing = set(ReferenceImage.objects.values_list("pk", flat=True))
    missing = (set(serving.reference_ids().tolist()) & existing) - set(new.reference_ids().tolist())
    if missing:
        raise SwitchRefused(f"The new index lacks {len(missing)} of the serving index's references "
                            f"(e.g. reference {min(missing)}): its embedder could not read them.")
    if not _untrained_ids(new):
        return (f"Accuracy not compared: {new.backbone_version} trained on every reference here, so none is new to "
                "it; the audits (the Quality page) measure it on new photos.")
    untrained = _untrained_ids(serving) & _untrained_ids(new)
    (before, queries), (after, _) = left_out_accuracy(serving, among=untrained), left_out_accuracy(new, among=untrained)
    if before is None or after is None:
        return (f"Accuracy not compared: only {queries} references were left out by both embedders' training "
                f"(at least {MIN_CALIBRATION_QUERIES} are needed).")
    if after < before - SWITCH_TOLERANCE:
        raise SwitchRefused(f"The new index ({new.backbone_version}) is less accurate than the serving one "
                            f"({serving.backbone_version}) on the {queries} references neither was trained on: "
                            f"{after:.1%} against {before:.1%} at leaf level.")
    return f"Leaf accuracy on the {queries} references neither embedder trained on: {after:.1%} (was {before:.1%})."


def _untrained_ids(index):
    return set(index.reference_ids()[~index.trained_rows()].tolist())


def roll_back_index(show_progress=False):
    """Put back the index the last switch replaced (the two swap places, so a second roll back
    undoes the first): its backbone's embeddings are stored again first (the embedding cache
    still holds them), then the file swapped, then brought up to the reference rows. Returns what
    rebuild_index does."""
    with index_lock():
        backbone = _previous_backbone()
        if backbone is None:
            raise NothingToRollBack("There is no previous index to roll back to: none has been replaced by "
                                    "`rebuild_index --backbone NAME` or `--re-embed` here.")
        embed_references(backbone, show_progress)
        if settings.CATALOG_INDEX_SNAPSHOTS:
            index_snapshots.roll_back()
        else:
            _swap_with_previous()
        return _rebuild_locked(backbone, show_progress, re_embed=False, force=True, keep_previous=False)


def _previous_backbone():
    if settings.CATALOG_INDEX_SNAPSHOTS:
        return index_snapshots.previous_backbone()
    path = str(settings.CATALOG_INDEX_PATH)
    previous = path + PREVIOUS_SUFFIX
    if not (os.path.exists(previous) and os.path.exists(path)):
        return None
    return read_manifest(previous)["backbone"]


def _swap_with_previous():
    # Readers always find a file at `path`: the current one copied aside, then two renames.
    path = str(settings.CATALOG_INDEX_PATH)
    swap = path + ".swap"
    with open(path, "rb") as current, replaced_atomically(swap) as kept:
        shutil.copyfileobj(current, kept)
    os.replace(path + PREVIOUS_SUFFIX, path)
    os.replace(swap, path + PREVIOUS_SUFFIX)


def _serving_index():
    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return None
    return ReferenceIndex.load(settings.CATALOG_INDEX_PATH)


def _keep_previous():
    path = str(settings.CATALOG_INDEX_PATH)
    with open(path, "rb") as current, replaced_atomically(path + PREVIOUS_SUFFIX) as kept:
        shutil.copyfileobj(current, kept)


def calibration_summary(index):
    """What the index's confidences are calibrated on, or plainly that they are not (then nothing
    is accepted automatically), for staff building one."""
    if index.calibration is not None:
        return f"Its confidence is calibrated on {index.calibration.source}."
    untrained = len(index) - int(index.trained_rows().sum())
    return (f"It has NO calibration: {untrained} of its {len(index)} references are photos its embedder did not "
            f"train on (at least {MIN_CALIBRATION_QUERIES} are needed), and its embedder's fold predictions, if it "
            "has any, do not make up the rest, so nothing will be accepted automatically: every photo goes to "
            "review. Import references the embedder never saw, or train it with --holdout-fraction "
            "(vision/training/README.md).")


def update_index(compact=False):
    """Embed the references that lack embeddings (running workers then apply them), and compact
    the index file when that is due or asked for; return the index written, or None.

    A compaction brings the file up to the reference rows: new references are added to it (and
    its head and calibration refitted if they changed it enough); a removed or re-categorized
    reference, or a renamed category, means a build from the stored embeddings; a file without a
    head or a calibration (saved before they existed) gets them. Workers load the new file on
    their next photo.
    """
    with index_lock():
        if not os.path.exists(settings.CATALOG_INDEX_PATH):
            return None
        manifest = read_manifest(settings.CATALOG_INDEX_PATH)
        _report_unreadable(embed_references(manifest["backbone"]))
        if not (compact or compaction_due(manifest)):
            return None
        through = settled_change()
        index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
        weights = models.embedder(index.backbone_name).weights
        wanted = {pk: parse_path(path)
                  for pk, path in indexable(weights, models).values_list("pk", "category__path")}
        current = index.entries()
        if any(wanted.get(reference) != path for reference, path in current.items()):
            index = build_index(index.backbone_name)
        elif len(wanted) > len(current):
            add_references(index, ReferenceImage.objects.filter(pk__in=set(wanted) - set(current)), weights)
            if index.outgrew_its_search_setting:
                index = build_index(index.backbone_name)
        elif not head_is_stale(index) and not calibration_is_stale(index, of_weights(weights)) \
                and index.applied_change == through:
            return None
        _save(index, through)
    _forget_changes_before(through)
    return index


def _report_unreadable(unreadable):
    """Log the references an update could not read: they stay out of the index (each update tries
    them again), which nobody would know otherwise."""
    if unreadable:
        shown = "; ".join(f"{path}: {reason}" for path, reason in unreadable[:UNREADABLE_SHOWN])
        log.warning("References whose file could not be read stay out of the index (%d: %s%s); replace or delete "
                    "them in the admin", len(unreadable), shown, "; …" if len(unreadable) > UNREADABLE_SHOWN else "")


UNREADABLE_SHOWN = 3


def compaction_due(manifest):
    """Whether the index file (its `manifest`) is due to be rewritten: the changes since it was
    are many (CATALOG_INDEX_COMPACT_CHANGES) or the oldest has waited long enough
    (CATALOG_INDEX_COMPACT_SECONDS), or it lacks the head or the calibration a new file would have
    (one fitted on other features, by an older version, counts as none)."""
    lacks_head = manifest["count"] and manifest.get("head_trained_on") is None
    calibration = manifest.get("calibration")
    # One fitted on other features is refitted whatever it rests on (fold predictions, say); none
    # at all only where enough references are new to the embedder (a save would have fitted one
    # from fold predictions).
    lacks_calibration = (calibration is not None and not fitted_on_these_features(calibration)) or \
        (calibration is None and manifest["count"] - manifest.get("trained_rows", 0) >= MIN_CALIBRATION_QUERIES)
    if lacks_head or lacks_calibration:
        return True
    pending = ReferenceChange.objects.filter(pk__gt=manifest.get("applied_change", 0))
    oldest = pending.order_by("pk").values_list("created", flat=True).first()
    if oldest is None:
        return False
    waited = timezone.now() - oldest >= timedelta(seconds=settings.CATALOG_INDEX_COMPACT_SECONDS)
    return waited or pending.count() >= settings.CATALOG_INDEX_COMPACT_CHANGES


def settled_change():
    """The last change that has surely committed (CHANGE_SETTLE_SECONDS): an index built from the
    reference rows read after this holds it and every change before it."""
    settled = timezone.now() - timedelta(seconds=CHANGE_SETTLE_SECONDS)
    return ReferenceChange.objects.filter(created__lte=settled).aggregate(last=Max("pk"))["last"] or 0


def _forget_changes_before(through):
    """Drop changes the file holds once no worker can still need them: one holding an older file
    loads the new one on its next photo, so a day is ample. Replaced snapshots go too."""
    ReferenceChange.objects.filter(pk__lte=through, created__lt=timezone.now() - timedelta(days=1)).delete()
    if settings.CATALOG_INDEX_SNAPSHOTS:
        index_snapshots.forget_replaced()


def _save(index, through, keep_previous=False):
    """Write the index file; with `keep_previous`, the one it replaces is kept for roll_back_index.
    With snapshots, the file is then published for the other hosts."""
    index.applied_change = through
    refresh_head(index)
    refresh_calibration(index, folds=of_weights(models.embedder(index.backbone_name).weights))
    if keep_previous and not settings.CATALOG_INDEX_SNAPSHOTS:
        _keep_previous()
    index.save(settings.CATALOG_INDEX_PATH)
    if settings.CATALOG_INDEX_SNAPSHOTS:
        index_snapshots.publish(keep_previous)
