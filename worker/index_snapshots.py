"""The index shared through the storage, for hosts that share no disk (CATALOG_INDEX_SNAPSHOTS).

The reference changes already live in the database (ReferenceChange rows, which every worker
applies to its index in memory); what a worker on a fresh host also needs is the index file they
apply to. Whoever rewrites that file (worker.indexing, under its lock) publishes it: a new file
in the storage and an IndexSnapshot row. No stored file is ever overwritten, so a host fetching
one while the next is published still reads it whole. Each host keeps a copy of the newest at
CATALOG_INDEX_PATH, fetched when a newer row appears; the ModelCache loads that copy as it loads
any replaced file, and the changes after it from the database.
"""

import logging
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from catalog.models import IndexSnapshot
from vision.files import replaced_atomically
from vision.index import read_manifest

log = logging.getLogger(__name__)

# Beside the local copy: the name of the snapshot it is a copy of (a restarted worker keeps it).
COPY_SUFFIX = ".snapshot"
# A snapshot neither newest nor kept for a roll back is deleted this long after it was replaced:
# long enough for any host still downloading it to finish.
KEEP_REPLACED = timedelta(hours=1)


def fetch(snapshot=None):
    """Make the local index file (CATALOG_INDEX_PATH) a copy of `snapshot`, by default the newest,
    unless it already is one; return the snapshot, or None when none has been published (the local
    file, if any, is then left as it is)."""
    snapshot = snapshot or IndexSnapshot.newest()
    if snapshot is None:
        return None
    path = Path(settings.CATALOG_INDEX_PATH)
    if copy_of(path) == snapshot.file.name and path.exists():
        return snapshot
    # Downloaded beside it and renamed over it: a worker loading the old copy meanwhile reads it whole.
    with snapshot.file.open("rb") as stored, replaced_atomically(path) as local:
        shutil.copyfileobj(stored, local, 1 << 20)
    _mark(path, snapshot.file.name)
    log.info("index snapshot %s fetched (%s references)", snapshot.file.name, snapshot.references)
    return snapshot


def publish(keep_previous=False):
    """Publish the local index file, just saved, as the newest snapshot. With `keep_previous`
    (a switch of embedder) the snapshot it replaces is the one roll_back() puts back; otherwise the
    one kept before stays kept."""
    path = Path(settings.CATALOG_INDEX_PATH)
    manifest = read_manifest(path)
    before = IndexSnapshot.newest()
    snapshot = IndexSnapshot(backbone=manifest["backbone"], references=manifest["count"],
                             applied_change=manifest.get("applied_change", 0),
                             previous=before if keep_previous else (before.previous if before else None))
    with open(path, "rb") as handle:
        snapshot.file.save(f"{uuid.uuid4().hex}.npz", File(handle), save=True)
    _mark(path, snapshot.file.name)
    return snapshot


def roll_back():
    """Publish again the snapshot the last switch replaced, keeping the newest as the one to roll
    back to (a second roll back undoes the first), and fetch it; False when there is none."""
    now = IndexSnapshot.newest()
    if now is None or now.previous is None:
        return False
    back = now.previous
    restored = IndexSnapshot.objects.create(file=back.file.name, backbone=back.backbone, references=back.references,
                                            applied_change=back.applied_change, previous=now)
    fetch(restored)
    return True


def previous_backbone():
    """The backbone of the snapshot a roll back would put back, or None."""
    now = IndexSnapshot.newest()
    return now.previous.backbone if now is not None and now.previous is not None else None


def forget_replaced():
    """Delete the snapshots replaced more than KEEP_REPLACED ago, but the newest and the one it
    keeps for a roll back, and the files no snapshot left names."""
    now = IndexSnapshot.newest()
    if now is None:
        return
    kept = {now.pk, now.previous_id}
    old = IndexSnapshot.objects.filter(created__lt=timezone.now() - KEEP_REPLACED).exclude(pk__in=kept - {None})
    names = set(old.values_list("file", flat=True))
    old.delete()
    for name in names - set(IndexSnapshot.objects.values_list("file", flat=True)):
        IndexSnapshot.file.field.storage.delete(name)


def copy_of(path):
    """The name of the snapshot the local file at `path` is a copy of, or None."""
    try:
        return Path(f"{path}{COPY_SUFFIX}").read_text().strip() or None
    except FileNotFoundError:
        return None


def _mark(path, name):
    with replaced_atomically(f"{path}{COPY_SUFFIX}") as handle:
        handle.write(name.encode())
