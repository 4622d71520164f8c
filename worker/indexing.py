"""Building the FAISS index from the ReferenceImage rows, embedding only what is new.

The vision modules that load torch or faiss are imported inside the functions: the web process
imports worker.tasks, and through it this module, and must stay free of both.
"""

import fcntl
import os
from contextlib import contextmanager
from operator import attrgetter

import numpy as np
from django.conf import settings
from tqdm import tqdm

from catalog.models import PATH_SEPARATOR, ReferenceImage

from .models_cache import models

BATCH_SIZE = 32


def embed_references(backbone_name=None, show_progress=False):
    """Embed every reference not yet embedded by the backbone; return the unreadable ones."""
    from vision.categorize import load_in_batches

    embedder = models.embedder(backbone_name)
    stale = list(ReferenceImage.objects.exclude(embedding_version=embedder.weights.version).order_by("pk"))
    unreadable = []
    with tqdm(total=len(stale), desc="embedding references", unit="img", disable=not show_progress) as bar:
        for readable, images, failed in load_in_batches(stale, BATCH_SIZE, attrgetter("image.path"), bar):
            unreadable.extend(failed)
            if images:
                _store_embeddings(readable, embedder.embed(images), embedder.weights.version)
    return unreadable


def _store_embeddings(references, embeddings, version):
    for reference, embedding in zip(references, embeddings):
        reference.embedding = embedding.astype(np.float32).tobytes()
        reference.embedding_version = version
    ReferenceImage.objects.bulk_update(references, ["embedding", "embedding_version"])


def build_index(backbone_name=None):
    """A ReferenceIndex of every reference embedded with the backbone."""
    from vision.index import ReferenceIndex

    weights = models.embedder(backbone_name).weights
    index = ReferenceIndex(weights.feature_dim, weights.name, weights.version)
    _add_references(index, ReferenceImage.objects.filter(embedding_version=weights.version))
    return index


def index_backbone():
    """The backbone of the current index, or None when there is no index yet."""
    from vision.index import read_manifest

    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return None
    return read_manifest(settings.CATALOG_INDEX_PATH)["backbone"]


@contextmanager
def index_lock():
    """Held by whoever rewrites the index file, so that two writers never undo each other's work
    (a review adding a reference while a rebuild runs). Readers need no lock: saves are atomic."""
    path = f"{settings.CATALOG_INDEX_PATH}.lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def rebuild_index(backbone_name=None, show_progress=False, re_embed=False):
    """Embed what is new (with `re_embed`, every reference again), build a new index from the
    reference rows and atomically replace the current one; return (index, unreadable).

    Without `backbone_name` the index keeps the backbone it has (CATALOG_BACKBONE for a first
    index). Workers keep using the previous index and its backbone until the new file is in place.
    """
    with index_lock():
        backbone_name = backbone_name or index_backbone() or settings.CATALOG_BACKBONE
        if re_embed:
            ReferenceImage.objects.update(embedding=None, embedding_version="")
        unreadable = embed_references(backbone_name, show_progress)
        index = build_index(backbone_name)
        _save(index)
    return index, unreadable


def update_index():
    """Bring the index up to date with the reference rows; return the index, or None if there is none.

    New references are added to the current index (and its head retrained if they changed it
    enough); a removed or re-categorized reference, or a renamed category, means a rebuild from
    the stored embeddings; an index without a head (saved before heatmaps) gets one. Either way
    workers pick the new file up on their next photo.
    """
    from vision.cam import head_is_stale
    from vision.index import ReferenceIndex

    with index_lock():
        if not os.path.exists(settings.CATALOG_INDEX_PATH):
            return None
        index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
        embed_references(index.backbone_name)
        wanted = _indexable_references(index.backbone_version)
        current = index.entries()
        if any(wanted.get(reference) != path for reference, path in current.items()):
            index = build_index(index.backbone_name)
        elif len(wanted) > len(current):
            _add_references(index, ReferenceImage.objects.filter(pk__in=set(wanted) - set(current)))
        elif not head_is_stale(index):
            return index
        _save(index)
    return index


def _indexable_references(backbone_version):
    return {pk: tuple(path.split(PATH_SEPARATOR)) for pk, path in ReferenceImage.objects.filter(
        embedding_version=backbone_version).values_list("pk", "category__path")}


def _add_references(index, references):
    rows = list(references.order_by("pk").values_list("pk", "category__path", "embedding"))
    if not rows:
        return
    ids, paths, embeddings = zip(*rows)
    index.add(np.stack([np.frombuffer(e, np.float32) for e in embeddings]),
              [tuple(p.split(PATH_SEPARATOR)) for p in paths], list(ids))


def _save(index):
    from vision.cam import refresh_head

    refresh_head(index)
    index.save(settings.CATALOG_INDEX_PATH)
