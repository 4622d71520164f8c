"""The per-process model cache: the backbone is loaded once per worker process, the index
again only when its file changes (a new version was saved by an import or a correction).

torch is imported here lazily, so importing the task module costs the web process nothing.
"""

import os
import threading

from django.conf import settings


class IndexNotReady(RuntimeError):
    """There is no usable reference index: none yet, or one built by another backbone."""


class ModelCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._embedder = None
        self._categorizer = None
        self._index_file_key = None

    def embedder(self):
        with self._lock:
            return self._embedder_locked()

    def categorizer(self):
        """The Categorizer for the current index, reloading the index if its file changed."""
        with self._lock:
            key = _file_key(settings.CATALOG_INDEX_PATH)
            if key is None:
                raise IndexNotReady(
                    "The category catalogue is not ready yet (no reference index). "
                    "Staff: run `python manage.py import_catalog DIR`."
                )
            if self._categorizer is None or key != self._index_file_key:
                self._categorizer = self._load_categorizer()
                self._index_file_key = key
            return self._categorizer

    def _embedder_locked(self):
        if self._embedder is None:
            from vision.backbones import get_backbone
            from vision.embedder import Embedder

            self._embedder = Embedder(get_backbone(settings.CATALOG_BACKBONE), device=settings.CATALOG_DEVICE)
        return self._embedder

    def _load_categorizer(self):
        from vision.categorize import Categorizer
        from vision.index import IndexMismatch, ReferenceIndex

        try:
            return Categorizer(self._embedder_locked(), ReferenceIndex.load(settings.CATALOG_INDEX_PATH))
        except IndexMismatch as error:
            raise IndexNotReady(str(error)) from error


def _file_key(path):
    # A save replaces the file by rename, so the inode changes with every new version.
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


models = ModelCache()
