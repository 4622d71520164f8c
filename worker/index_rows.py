"""An index's rows, from the reference rows: which references an index can hold, adding their
stored embeddings to it, and applying the reference changes since its file to a running worker's
index (ChangeFeed). worker.indexing builds and saves index files with these; the ModelCache keeps
its index current with ChangeFeed, and passes itself in, so this module needs no model cache.
"""

import hashlib
import uuid
from datetime import timedelta

import numpy as np
from django.utils import timezone

from catalog.models import Item, ReferenceChange, ReferenceImage
from vision.catalogue import parse_path
from vision.splits import GROUPING_BACKBONE, is_grouping_backbone, occasion_groups

# Change ids are handed out when a change is written, not when it commits: a change committed
# late can have a lower id than ones already applied. Changes younger than this are read again
# until they have surely committed (a reference is saved in a short transaction).
CHANGE_SETTLE_SECONDS = 60


class ChangeFeed:
    """Applies the reference changes newer than a worker's index to it, as they commit; `models`
    is the worker's ModelCache, which holds the index."""

    def __init__(self, index, weights, models):
        self.index, self.weights, self.models = index, weights, models
        self.settled = index.applied_change  # every change up to this one is applied,
        self.applied = set()  # and these after it

    def catch_up(self):
        changes = list(ReferenceChange.objects.filter(pk__gt=self.settled)
                       .values_list("pk", "reference_id", "created"))
        new = [(pk, reference) for pk, reference, _ in changes if pk not in self.applied]
        if new:
            apply_reference_changes(self.index, {reference for _, reference in new}, self.weights, self.models)
            self.applied.update(pk for pk, _ in new)
            self.index.applied_change = max(self.index.applied_change, *(pk for pk, _ in new))
        settled = timezone.now() - timedelta(seconds=CHANGE_SETTLE_SECONDS)
        self.settled = max((pk for pk, _, created in changes if created <= settled), default=self.settled)
        self.applied = {pk for pk in self.applied if pk > self.settled}


def apply_reference_changes(index, reference_ids, weights, models):
    """Bring the index's rows of these references to the reference rows: rows of removed or
    re-categorized references left out of searches, new ones added; one held as it is stays,
    also when its reference is now embedded by another model (a new embedder's index being built,
    or refused): the row was made by the index's own."""
    embeddable = set(indexable(weights, models).filter(pk__in=reference_ids).values_list("pk", flat=True))
    paths = {pk: parse_path(path) for pk, path
             in ReferenceImage.objects.filter(pk__in=reference_ids).values_list("pk", "category__path")}
    held = index.held_paths(reference_ids)
    wanted = {pk: path for pk, path in paths.items() if pk in embeddable or held.get(pk) == path}
    changed = {pk for pk in reference_ids if wanted.get(pk) != held.get(pk)}
    index.remove(changed & held.keys())
    add_references(index, ReferenceImage.objects.filter(pk__in=changed & embeddable), weights)


def indexable(weights, models):
    """The references an index of `weights` can hold: those embedded by it (and by the grouping
    backbone, whose version `models`, a ModelCache, tells, when it needs a novelty space)."""
    references = ReferenceImage.objects.filter(embedding_version=weights.version)
    if needs_novelty_space(weights):
        references = references.filter(novelty_version=models.embedder(GROUPING_BACKBONE).weights.version)
    return references


def needs_novelty_space(weights):
    """An index of any backbone but the frozen grouping one keeps that one's features as well:
    "not in the catalogue" is judged, and occasions are found, in them (vision.index)."""
    return not is_grouping_backbone(weights)


def add_references(index, references, weights, find_occasions=False):
    """Add the references' stored embeddings (and novelty features, when the index keeps them),
    marking those the backbone was trained on and the occasion each is a photo of (see _occasions;
    `find_occasions` only when these are all of them)."""
    rows = list(references.order_by("pk").values_list("pk", "category__path", "embedding", "novelty_embedding",
                                                      "content_key", "source", "source_key"))
    if not rows:
        return
    ids, paths, embeddings, novelty_embeddings, keys, sources, source_keys = zip(*rows)
    vectors = _stacked(embeddings)
    novelty = _stacked(novelty_embeddings) if needs_novelty_space(weights) else None
    categories = [parse_path(p) for p in paths]
    frozen = vectors if novelty is None else novelty
    index.add(vectors, categories, list(ids), [key in weights.trained_on for key in keys],
              _occasions(ids, categories, frozen if find_occasions else None, sources, source_keys), novelty, keys)


def _stacked(embeddings):
    return np.stack([np.frombuffer(e, np.float32) for e in embeddings])


def _occasions(ids, categories, frozen, sources, source_keys):
    """The occasion of each reference, which its calibration leaves out with it: a staff-reviewed
    item's listing (one product, photographed together); for an imported photo, the occasion found
    in the grouping backbone's `frozen` features (vision.splits) when they are given; else the
    photo alone."""
    items = [key.removeprefix("item:") for key, source in zip(source_keys, sources)
             if source == ReferenceImage.Source.REVIEW]
    listing_of = dict(Item.objects.filter(uuid__in=items).values_list("uuid", "photo__listing__uuid"))
    found = occasion_groups(categories, frozen) if frozen is not None else None
    names = []
    for i, (pk, source, source_key) in enumerate(zip(ids, sources, source_keys)):
        listing = listing_of.get(uuid.UUID(source_key.removeprefix("item:"))) \
            if source == ReferenceImage.Source.REVIEW else None
        if listing:
            names.append(f"listing:{listing}")
        elif found is not None and source == ReferenceImage.Source.IMPORT:
            names.append(f"found:{found[i]}")
        else:
            names.append(f"reference:{pk}")
    return [_group_number(name) for name in names]


def _group_number(name):
    return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
