"""The per-process model cache.

Each worker process loads a backbone once, and the index again only when its file changes. The
index names the backbone that built it and the worker uses that one, so replacing the index
file (one atomic rename) switches backbone and index together: the previous pair keeps serving
until the new index is ready, with no moment without an index. Between files, the reference
changes since are applied to the index in memory (worker.index_rows.ChangeFeed). Where hosts
share no disk, the file is this host's copy of the newest snapshot in the storage, fetched when
one newer appears (worker.index_snapshots).
"""

import logging
import os
import threading
import time

from django.conf import settings

from catalog.models import ThresholdChange, answering_model
from catalog.storage import STORAGE_ERRORS
from vision.categorize import Categorizer
from vision.index import IndexMismatch, ReferenceIndex
from vision.model_weights import ModelUnavailable as NotLoadable
from vision.onnx_runtime import onnx_path
from vision.runtimes import is_known, load_embedder, load_segmenter, served_unet
from vision.splits import GROUPING_BACKBONE
from vision.text import TextReader

from . import index_snapshots
from .index_rows import ChangeFeed

log = logging.getLogger(__name__)


class IndexNotReady(RuntimeError):
    """There is no usable reference index: none yet, or one whose backbone cannot be loaded."""


def _no_index_yet():
    where = (" and no index snapshot has been published" if settings.CATALOG_INDEX_SNAPSHOTS else
             "; on a host other than the one that built it, share CATALOG_INDEX_PATH or turn on "
             "CATALOG_INDEX_SNAPSHOTS")
    return (f"The category catalogue is not ready yet: no reference index at {settings.CATALOG_INDEX_PATH}{where}. "
            "Staff: run `python manage.py import_catalog DIR`, or `python manage.py rebuild_index` where the "
            "references are imported already (an install moved to the bucket).")


class SnapshotMissing(OSError):
    """The newest index snapshot's file is not in the storage and this host has no copy: passing
    (an OSError, so tasks retry) once staff rebuild the index, unlike a missing photo."""


class ModelUnavailable(RuntimeError):
    """A backbone cannot be loaded (unknown name, or weights that cannot be had here)."""


class RuntimeMissing(ModelUnavailable):
    """The runtime asked for (CATALOG_RUNTIME) lacks its model file or execution provider here:
    the index is fine, the worker is not set up."""


class ModelCache:
    def __init__(self):
        # Re-entrant: applying reference changes asks for the grouping backbone's version.
        self._lock = threading.RLock()
        self._embedders = {}
        self._categorizer = None
        self._changes = None  # the ChangeFeed of the categorizer's index
        self._index_file_key = None
        self._segmenters = {}
        self._text_reader = None
        self._snapshot_checked = None  # time.monotonic() of the last look for a newer snapshot

    def embedder(self, backbone_name=None):
        """The embedder of `backbone_name` (default: the one new indexes are built with)."""
        with self._lock:
            return self._embedder_locked(backbone_name or settings.CATALOG_BACKBONE)

    def categorizer(self):
        """The Categorizer for the current index, reloading the index if its file changed and
        applying the reference changes made since."""
        with self._lock:
            self._fetch_newer_snapshot()
            key = _file_key(settings.CATALOG_INDEX_PATH)
            if key is None:
                raise IndexNotReady(_no_index_yet())
            if self._categorizer is None or key != self._index_file_key:
                self._categorizer = self._load_categorizer()
                self._changes = ChangeFeed(self._categorizer.index, self._categorizer.embedder.weights, self)
                self._index_file_key = key
            self._changes.catch_up()
            self._categorizer.target_precision = settings.CATALOG_AUTO_ACCEPT_PRECISION
            # Thresholds audits raised (worker.thresholds) replace the calibration's.
            self._categorizer.thresholds = ThresholdChange.in_force(
                settings.CATALOG_AUTO_ACCEPT_PRECISION, answering_model(self._categorizer.model_version))
            return self._categorizer

    def _fetch_newer_snapshot(self):
        """With snapshots, make the local index file a copy of the newest one, looking at most
        every CATALOG_INDEX_CHECK_SECONDS (corrections need no new file: ChangeFeed applies them).
        While the storage cannot be reached, the copy this host has keeps serving."""
        if not settings.CATALOG_INDEX_SNAPSHOTS:
            return
        now = time.monotonic()
        if self._snapshot_checked is not None and now - self._snapshot_checked < settings.CATALOG_INDEX_CHECK_SECONDS:
            return
        try:
            index_snapshots.fetch()
        except FileNotFoundError as error:
            # The database names a snapshot the storage lacks (a restore without it, another bucket):
            # not the photo's file, which a FileNotFoundError out of here would have failed for good.
            log.error("the newest index snapshot is missing from the storage (%s). Staff: run "
                      "`python manage.py rebuild_index` on a host that has the embedder, or check "
                      "AWS_STORAGE_BUCKET_NAME", error)
            if _file_key(settings.CATALOG_INDEX_PATH) is None:
                raise SnapshotMissing(str(error)) from error  # no copy at all: the photo's task retries
        except STORAGE_ERRORS as error:
            if _file_key(settings.CATALOG_INDEX_PATH) is None:
                raise  # no copy at all: the photo's task retries
            log.warning("index snapshot not fetched, serving the copy this host has: %r", error)
        # Looked again only after CATALOG_INDEX_CHECK_SECONDS, fetched or not: not once a photo.
        self._snapshot_checked = now

    def segmenter(self):
        """The segmenter named by settings.CATALOG_SEGMENTER, or None when segmentation is off."""
        name = settings.CATALOG_SEGMENTER
        if not name:
            return None
        with self._lock:
            # A segmenter retrained or exported again is a new file: load it anew, and let the old one go.
            # A detector reads a second file, the UNet of its foreground (vision.runtimes.served_unet).
            key = (name, settings.CATALOG_RUNTIME, str(settings.CATALOG_ONNX_DIR), settings.CATALOG_ONNX_PROVIDER,
                   _file_key(_segmenter_file(name)), _file_key(_segmenter_file(served_unet(settings.CATALOG_RUNTIME))))
            if key not in self._segmenters:
                for old in [k for k in self._segmenters if k[:4] == key[:4]]:
                    del self._segmenters[old]
                self._segmenters[key] = self._load_segmenter(name)
            return self._segmenters[key]

    def _load_segmenter(self, name):
        return _loaded(load_segmenter, name, settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_DIR,
                       settings.CATALOG_ONNX_PROVIDER, settings.CATALOG_DEVICE)

    def text_reader(self):
        """The OCR reader (vision.text), or None when reading text is off."""
        if not settings.CATALOG_READ_TEXT:
            return None
        with self._lock:
            if self._text_reader is None:
                self._text_reader = TextReader()
            return self._text_reader

    def _embedder_locked(self, backbone_name):
        # A model replaced under the same name is a new file (an ensemble: a new file of its own
        # or of a member's): load it anew.
        key = (backbone_name, settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_PROVIDER,
               *(_file_key(path) for path in _model_files(backbone_name)))
        if key not in self._embedders:
            # What a replaced file was loaded as goes (a session holds its weights: 100 MB for `grocery`).
            for old in [k for k in self._embedders if k[:3] == key[:3]]:
                del self._embedders[old]
            self._embedders[key] = _loaded(load_embedder, backbone_name, settings.CATALOG_RUNTIME,
                                           settings.CATALOG_ONNX_DIR, settings.CATALOG_ONNX_PROVIDER,
                                           settings.CATALOG_DEVICE)
        return self._embedders[key]

    def _load_categorizer(self):
        index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
        try:
            novelty = self._embedder_locked(GROUPING_BACKBONE) if index.has_novelty_space else None
            return Categorizer(self._embedder_locked(index.backbone_name), index, novelty_embedder=novelty)
        except RuntimeMissing as error:
            if is_known(index.backbone_name):
                raise  # not the index's fault: rebuilding it would not help
            raise _unusable(index, f"Unknown backbone '{index.backbone_name}': no weights or model file "
                                   "for it here") from error
        except (IndexMismatch, ModelUnavailable) as error:
            raise _unusable(index, error) from error


def _unusable(index, why):
    return IndexNotReady(f"The category index was built with {index.backbone_version}, which this worker cannot "
                         f"use ({why}). Staff: rebuild it with `python manage.py rebuild_index`.")


def _loaded(load, name, runtime, *args):
    """load(name, runtime, ...) of vision.runtimes, its failure told as this module's error."""
    try:
        return load(name, runtime, *args)
    except NotLoadable as error:
        raise (RuntimeMissing if runtime == "onnx" else ModelUnavailable)(str(error)) from error


def _model_files(name):
    """The files the model `name` is loaded from on the runtime in use."""
    if settings.CATALOG_RUNTIME == "onnx":
        return [onnx_path(name, settings.CATALOG_ONNX_DIR)]
    from vision.backbones import backbone_files

    return backbone_files(name)


def _segmenter_file(name):
    if settings.CATALOG_RUNTIME == "onnx":
        return onnx_path(name, settings.CATALOG_ONNX_DIR)
    from vision.unet import segmenter_path

    return segmenter_path(name)


def _file_key(path):
    # A save replaces the file by rename, so the inode changes with every new version.
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


models = ModelCache()


def setup_problems():
    """What the settings name that this host cannot load, checked as a worker starts: a misspelled
    segmenter, or the cuda provider without onnxruntime-gpu, failed every photo for good ("not set
    up") while the worker ran on as if nothing were wrong. Names only: nothing is loaded (a worker
    forks after this, and ONNX Runtime's threads do not survive a fork). Not CATALOG_BACKBONE: it
    names a first index's embedder, and a worker serves the one its index names."""
    problems = []
    segmenter = settings.CATALOG_SEGMENTER
    if segmenter and not os.path.exists(path := _segmenter_file(segmenter)):
        problems.append(f"CATALOG_SEGMENTER={segmenter}: there is no {path}")
    if settings.CATALOG_RUNTIME == "onnx" and settings.CATALOG_ONNX_PROVIDER == "cuda":
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            problems.append("CATALOG_ONNX_PROVIDER=cuda: this ONNX Runtime has no CUDA provider (install "
                            "onnxruntime-gpu in place of onnxruntime, or set cpu)")
    return problems
