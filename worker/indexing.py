"""Building the FAISS index from the ReferenceImage rows, embedding only what is new."""

import numpy as np
from django.conf import settings
from tqdm import tqdm

from catalog.models import PATH_SEPARATOR, ReferenceImage

from .models_cache import models

BATCH_SIZE = 32


def embed_references(show_progress=False):
    """Embed every reference not yet embedded by the current backbone; return the unreadable ones."""
    from vision.categorize import load_images

    embedder = models.embedder()
    stale = ReferenceImage.objects.exclude(embedding_version=embedder.weights.version)
    unreadable = []
    with tqdm(total=stale.count(), desc="embedding references", unit="img", disable=not show_progress) as bar:
        for batch in _batches(stale.order_by("pk")):
            images, loaded, failed = load_images([r.image.path for r in batch], bar)
            unreadable.extend(failed)
            loaded = set(loaded)
            _store_embeddings([r for r in batch if r.image.path in loaded], embedder.embed(images),
                              embedder.weights.version)
    return unreadable


def _batches(queryset):
    batch = []
    for reference in queryset.iterator(chunk_size=BATCH_SIZE):
        batch.append(reference)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _store_embeddings(references, embeddings, version):
    for reference, embedding in zip(references, embeddings):
        reference.embedding = embedding.astype(np.float32).tobytes()
        reference.embedding_version = version
    ReferenceImage.objects.bulk_update(references, ["embedding", "embedding_version"])


def build_index():
    """A ReferenceIndex of every reference embedded with the current backbone."""
    from vision.index import ReferenceIndex

    weights = models.embedder().weights
    index = ReferenceIndex(weights.feature_dim, weights.name, weights.version)
    rows = list(ReferenceImage.objects.filter(embedding_version=weights.version)
                .values_list("pk", "category__path", "embedding"))
    if rows:
        ids, paths, embeddings = zip(*rows)
        vectors = np.stack([np.frombuffer(e, np.float32) for e in embeddings])
        index.add(vectors, [tuple(p.split(PATH_SEPARATOR)) for p in paths], list(ids))
    return index


def rebuild_index(show_progress=False):
    """Embed what is new, rebuild and atomically replace the index; return (index, unreadable)."""
    unreadable = embed_references(show_progress)
    index = build_index()
    index.save(settings.CATALOG_INDEX_PATH)
    return index, unreadable
