"""A seller's other listings that look most like one of theirs, by their items' embeddings.

Brute force in NumPy over the seller's own items: fine for thousands of items per seller; a
seller with far more would want these vectors in a FAISS index of their own.
"""

from collections import defaultdict

import numpy as np

from .models import Item


def similar_listings(listing, limit=10):
    """[(other listing id, similarity)] best first: each scored by its best item pair with `listing`."""
    mine = _embeddings(Item.objects.filter(photo__listing=listing))
    if not mine:
        return []
    best = defaultdict(float)
    others = Item.objects.filter(photo__listing__seller_id=listing.seller_id,
                                 embedding_version__in=mine.keys()).exclude(photo__listing=listing)
    for listing_id, embedding, version in others.values_list("photo__listing_id", "embedding", "embedding_version"):
        similarity = float(np.max(mine[version] @ np.frombuffer(embedding, np.float32)))
        best[listing_id] = max(best[listing_id], similarity)
    return sorted(best.items(), key=lambda pair: pair[1], reverse=True)[:limit]


def _embeddings(items):
    """{embedding version: (n, D) matrix} of the items that have an embedding."""
    grouped = defaultdict(list)
    for embedding, version in items.exclude(embedding=None).values_list("embedding", "embedding_version"):
        grouped[version].append(np.frombuffer(embedding, np.float32))
    return {version: np.stack(vectors) for version, vectors in grouped.items()}
