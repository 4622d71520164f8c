"""The per-process model cache.

Each worker process loads a backbone once, and the index again only when its file changes. The
index names the backbone that built it and the worker uses that one, so replacing the index
file (one atomic rename) switches backbone and index together: the previous pair keeps serving
until the new index is ready, with no moment without an index. Between files, the reference
changes since are applied to the index in memory (worker.index_rows.ChangeFeed).
"""

import os
import threading

from django.conf import settings

from catalog.models import ThresholdChange
from vision.backbones import BackboneUnavailable, backbone_files, get_backbone
from vision.categorize import Categorizer
from vision.embedder import Embedder
from vision.index import IndexMismatch, ReferenceIndex
from vision.onnx_runtime import OnnxEmbedder, RuntimeUnavailable, onnx_path
from vision.segment import OnnxSegmenter, load_segmenter
from vision.splits import GROUPING_BACKBONE
from vision.text import TextReader

from .index_rows import ChangeFeed


class IndexNotReady(RuntimeError):
    """There is no usable reference index: none yet, or one whose backbone cannot be loaded."""


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

    def embedder(self, backbone_name=None):
        """The embedder of `backbone_name` (default: the one new indexes are built with)."""
        with self._lock:
            return self._embedder_locked(backbone_name or settings.CATALOG_BACKBONE)

    def categorizer(self):
        """The Categorizer for the current index, reloading the index if its file changed and
        applying the reference changes made since."""
        with self._lock:
            key = _file_key(settings.CATALOG_INDEX_PATH)
            if key is None:
                raise IndexNotReady(
                    "The category catalogue is not ready yet (no reference index). "
                    "Staff: run `python manage.py import_catalog DIR`."
                )
            if self._categorizer is None or key != self._index_file_key:
                self._categorizer = self._load_categorizer()
                self._changes = ChangeFeed(self._categorizer.index, self._categorizer.embedder.weights, self)
                self._index_file_key = key
            self._changes.catch_up()
            self._categorizer.target_precision = settings.CATALOG_AUTO_ACCEPT_PRECISION
            # Thresholds audits raised (worker.thresholds) replace the calibration's.
            self._categorizer.thresholds = ThresholdChange.in_force(settings.CATALOG_AUTO_ACCEPT_PRECISION)
            return self._categorizer

    def segmenter(self):
        """The segmenter named by settings.CATALOG_SEGMENTER, or None when segmentation is off."""
        name = settings.CATALOG_SEGMENTER
        if not name:
            return None
        with self._lock:
            key = (name, settings.CATALOG_RUNTIME, str(settings.CATALOG_ONNX_DIR), settings.CATALOG_ONNX_PROVIDER)
            if key not in self._segmenters:
                self._segmenters[key] = self._load_segmenter(name)
            return self._segmenters[key]

    def _load_segmenter(self, name):
        if settings.CATALOG_RUNTIME == "onnx":
            try:
                return OnnxSegmenter(onnx_path(name, settings.CATALOG_ONNX_DIR),
                                     provider=settings.CATALOG_ONNX_PROVIDER)
            except RuntimeUnavailable as error:
                raise RuntimeMissing(str(error)) from error
        try:
            return load_segmenter(name, device=settings.CATALOG_DEVICE)
        except BackboneUnavailable as error:
            raise ModelUnavailable(str(error)) from error

    def text_reader(self):
        """The OCR reader (vision.text), or None when reading text is off."""
        if not settings.CATALOG_READ_TEXT:
            return None
        with self._lock:
            if self._text_reader is None:
                self._text_reader = TextReader()
            return self._text_reader

    def _embedder_locked(self, backbone_name):
        # A trained embedder retrained under the same name is a new file (an ensemble: a new file
        # of its own or of a member's): load it anew.
        if settings.CATALOG_RUNTIME == "onnx":
            return self._onnx_embedder_locked(backbone_name)
        key = (backbone_name, *(_file_key(path) for path in backbone_files(backbone_name)))
        if key not in self._embedders:
            try:
                backbone = get_backbone(backbone_name)
            except BackboneUnavailable as error:
                raise ModelUnavailable(str(error)) from error
            self._embedders[key] = Embedder(backbone, device=settings.CATALOG_DEVICE)
        return self._embedders[key]

    def _onnx_embedder_locked(self, backbone_name):
        path = onnx_path(backbone_name, settings.CATALOG_ONNX_DIR)
        key = ("onnx", backbone_name, settings.CATALOG_ONNX_PROVIDER, _file_key(path))
        if key not in self._embedders:
            try:
                self._embedders[key] = OnnxEmbedder(path, provider=settings.CATALOG_ONNX_PROVIDER)
            except RuntimeUnavailable as error:
                raise RuntimeMissing(str(error)) from error
        return self._embedders[key]

    def _load_categorizer(self):
        index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
        try:
            novelty = self._embedder_locked(GROUPING_BACKBONE) if index.has_novelty_space else None
            return Categorizer(self._embedder_locked(index.backbone_name), index, novelty_embedder=novelty)
        except RuntimeMissing:
            raise  # not the index's fault: rebuilding it would not help
        except (IndexMismatch, ModelUnavailable) as error:
            raise IndexNotReady(
                f"The category index was built with {index.backbone_version}, which this worker cannot use "
                f"({error}). Staff: rebuild it with `python manage.py rebuild_index`."
            ) from error


def _file_key(path):
    # A save replaces the file by rename, so the inode changes with every new version.
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


models = ModelCache()
