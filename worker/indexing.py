"""Building the FAISS index from the ReferenceImage rows, embedding only what is new.

The vision modules that load torch or faiss are imported inside the functions: the web process
imports worker.tasks, and through it this module, and must stay free of both.
"""

import os
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
    rows = list(ReferenceImage.objects.filter(embedding_version=weights.version)
                .values_list("pk", "category__path", "embedding"))
    if rows:
        ids, paths, embeddings = zip(*rows)
        vectors = np.stack([np.frombuffer(e, np.float32) for e in embeddings])
        index.add(vectors, [tuple(p.split(PATH_SEPARATOR)) for p in paths], list(ids))
    return index


def index_backbone():
    """The backbone of the current index, or None when there is no index yet."""
    from vision.index import read_manifest

    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return None
    return read_manifest(settings.CATALOG_INDEX_PATH)["backbone"]


def rebuild_index(backbone_name=None, show_progress=False):
    """Embed what is new, rebuild and atomically replace the index; return (index, unreadable).

    Without `backbone_name` the index keeps the backbone it has (CATALOG_BACKBONE for a first
    index). Workers keep using the previous index and its backbone until the new file is in place.
    """
    backbone_name = backbone_name or index_backbone() or settings.CATALOG_BACKBONE
    unreadable = embed_references(backbone_name, show_progress)
    index = build_index(backbone_name)
    index.save(settings.CATALOG_INDEX_PATH)
    return index, unreadable
