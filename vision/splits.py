"""Honest splits of a catalogue: photos of one occasion kept together, folds, a held-out part.

Catalogue photos come in bursts: one shelf photographed again and again, a few minutes apart.
Such photos are near-duplicates, and a photo whose twin is among the references is easy in a
way no new seller photo is (on Grocery train, a left-out photo has a twin for 97 % of its
nearest neighbours, and frozen features reach 96 % leaf accuracy by plain cross-validation,
against 57 % on Grocery val, which was photographed on other occasions). So photos are grouped
into occasions (`occasion_groups`), and folds, held-out parts and calibrations keep whole
occasions apart.

Every split is stratified by category and keyed on the files' contents, not on their position
in a list, so the same photo lands in the same part however the tree is scanned and however
much it grows. A trained embedder's weights file keeps the content key of every photo it
trained on (`content_key`), so an evaluation can tell which photos it has already seen.
"""

import hashlib
from collections import defaultdict

import numpy as np

from .content_keys import content_key
from .images import load_in_batches
from .runtimes import DEFAULT_RUNTIME, load_embedder

# Occasions are found with the frozen ImageNet features of this backbone, whatever embedder is
# being measured (an adapted one pulls a whole category together, occasions and all): two photos
# of one category are of one occasion when their similarity reaches OCCASION_SIMILARITY, or
# through a chain of such photos. 0.85 is where leaving occasions out of Grocery train makes it
# as hard as Grocery val (59.8 % against 56.8 % leaf with frozen features; 0.88: 81 %, 0.80:
# 28 %, no grouping: 96 %).
GROUPING_BACKBONE = "efficientnet_lite0"
OCCASION_SIMILARITY = 0.85


def occasion_groups(categories, vectors, threshold=OCCASION_SIMILARITY):
    """A group number per photo: the connected parts of the graph linking two photos of one
    category whose embeddings are at least `threshold` similar."""
    import faiss
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    vectors = np.ascontiguousarray(vectors, np.float32)
    groups = np.zeros(len(categories), np.int64)
    by_category = defaultdict(list)
    for position, category in enumerate(categories):
        by_category[category].append(position)
    offset = 0
    for category in sorted(by_category):
        members = np.array(by_category[category])
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors[members])
        limits, _, neighbours = index.range_search(vectors[members], threshold)
        rows = np.repeat(np.arange(len(members)), np.diff(limits).astype(np.int64))
        graph = coo_matrix((np.ones(len(rows)), (rows, neighbours)), shape=(len(members), len(members)))
        count, labels = connected_components(graph, directed=False)
        groups[members] = offset + labels
        offset += count
    return groups


def is_grouping_backbone(weights):
    """Whether these are the grouping backbone's own frozen weights (its embeddings then serve to
    find occasions and to judge novelty, with no second forward pass)."""
    return weights.name == GROUPING_BACKBONE and not weights.trained_on


def grouping_embedder(device=None, batch_size=None, runtime=DEFAULT_RUNTIME):
    return load_embedder(GROUPING_BACKBONE, runtime, device=device, batch_size=batch_size)


def frozen_features(images, embedder):
    """(the grouping embedder's features of the readable [CatalogueImage], their positions)."""
    readable, vectors = [], []
    for batch_images, batch, _ in load_in_batches(list(enumerate(images)), embedder.batch_size,
                                                  lambda item: item[1].path):
        if batch:
            readable.extend(i for i, _ in batch_images)
            vectors.append(embedder.embed(batch))
    return (np.concatenate(vectors) if vectors else np.zeros((0, embedder.dimension), np.float32)), readable


def photo_occasions(images, device=None, runtime=DEFAULT_RUNTIME):
    """Occasion groups of [CatalogueImage], found with the grouping backbone's frozen features
    (unreadable files are each a group of their own)."""
    vectors, readable = frozen_features(images, grouping_embedder(device, runtime=runtime))
    groups = np.arange(len(images), dtype=np.int64) + len(images)  # apart from every found group
    if readable:
        groups[readable] = occasion_groups([images[i].category for i in readable], vectors)
    return groups


def _by_category(images, groups, seed):
    """{category: [[positions of one group], ...]}, groups in an order fixed by their contents."""
    members = defaultdict(lambda: defaultdict(list))
    for position, image in enumerate(images):
        members[image.category][groups[position] if groups is not None else position].append(position)
    ordered = {}
    for category, by_group in members.items():
        keyed = [(min(_rank(images[p].path, seed) for p in positions), positions) for positions in by_group.values()]
        ordered[category] = [positions for _, positions in sorted(keyed)]
    return ordered


def _rank(path, seed):
    return hashlib.sha256(f"{seed}:{content_key(path)}".encode()).hexdigest()


def cv_folds(images, k, seed=0, groups=None):
    """The fold (0..k-1) of every image, whole `groups` (default: each image alone) together:
    each category's groups, largest first, each go to its least filled fold, starting at a
    different fold per category, so every category with at least k groups is in every fold and a
    smaller one is in as many folds as it has groups."""
    if k < 2:
        raise ValueError("Cross-validation needs at least 2 folds.")
    folds = [0] * len(images)
    for offset, (_, category_groups) in enumerate(sorted(_by_category(images, groups, seed).items())):
        filled = [0] * k
        for i, positions in enumerate(sorted(category_groups, key=len, reverse=True)):
            # Fill empty folds first, in the category's own rotation, then the least filled.
            fold = (offset + i) % k if i < k else min(range(k), key=lambda f: (filled[f], (f - offset) % k))
            filled[fold] += len(positions)
            for position in positions:
                folds[position] = fold
    return folds


def holdout_split(images, fraction, seed=0, groups=None):
    """(kept, held out): about `fraction` of each category's images held out in whole `groups`
    (default: each image alone), at least one group of every category that has two or more, so
    the held-out part holds every such category. Groups larger than what is left of a
    category's share are passed over, so one big occasion does not take a whole category."""
    if not 0 < fraction < 1:
        raise ValueError("The held-out fraction must be between 0 and 1.")
    held = set()
    for category_groups in _by_category(images, groups, seed).values():
        if len(category_groups) < 2:
            continue
        quota = max(1, round(fraction * sum(len(g) for g in category_groups)))
        taken = 0
        for positions in category_groups:
            if taken + len(positions) > quota:
                continue
            held.update(positions)
            taken += len(positions)
            if taken >= quota:
                break
        if not taken:  # every group is over the share: hold out the smallest
            held.update(min(category_groups, key=len))
    return ([image for i, image in enumerate(images) if i not in held],
            [image for i, image in enumerate(images) if i in held])
