"""The one code path from photos to category assignments, shared by the worker and evaluation."""

from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from . import outcomes
from .boxes import box_area, box_intersection
from .calibration import DEFAULT_TARGET_PRECISION, Decision, decide, decide_listing
from .cam import activation_map, covered_region, explained_category, heatmap_overlay
from .content_keys import content_key
from .images import load_in_batches
from .index import IndexMismatch, ReferenceIndex
from .segment import photos_items, whole_photo_item
from .text import lines_within, words_read
from .vote import Assignment, VoteConfig, vote

# A detector's main item is looked at on the whole photo (categorize_photos) only where that view,
# the photo's centre square, shows this much of it: on a wide photo of two products side by side it
# shows neither whole, and says nothing about the one it cuts.
SEEN_WHOLE_INSIDE = 0.8


@dataclass
class Explanation:
    category: tuple  # the category the map is of
    activation: np.ndarray  # (H, W) in [0, 1], over the part of the image the embedder saw


@dataclass
class CategorizedImage:
    assignment: Assignment  # the raw vote
    decision: Decision  # what it means, calibrated: the path shown, its confidences, the outcome
    embedding: np.ndarray  # (D,) unit length
    feature_map: np.ndarray  # (C, H, W), for the class-activation map (a CPU tensor on PyTorch)


class Categorizer:
    """Embeds, votes and decides. An index with a novelty space of its own (vision.index) needs
    `novelty_embedder`, the frozen grouping backbone, to judge "not in the catalogue" in it."""

    def __init__(self, embedder, index, config=VoteConfig(), target_precision=DEFAULT_TARGET_PRECISION,
                 novelty_embedder=None, text_profiles=None):
        if index.backbone_version != embedder.weights.version:
            raise IndexMismatch(
                f"The category index was built with {index.backbone_version} but this worker runs "
                f"{embedder.weights.version}; rebuild the index with this backbone."
            )
        if index.has_novelty_space and novelty_embedder is None:
            raise ValueError("This index judges novelty in the grouping backbone's features: give novelty_embedder.")
        self.embedder = embedder
        self.index = index
        self.config = config
        self.target_precision = target_precision
        # {(top-level category, depth): threshold} replacing the calibration's auto-accept
        # thresholds where audits raised them (vision.calibration.threshold_at).
        self.thresholds = {}
        self.novelty_embedder = novelty_embedder if index.has_novelty_space else None
        # vision.text.TextProfiles of the index's references: with config.text_weight, the words
        # read on an item re-weigh its vote.
        self.text_profiles = text_profiles

    @property
    def model_version(self):
        """The backbone (and the runtime, when not PyTorch), the index file, and the last reference
        change applied to it since."""
        runtime = "" if self.embedder.runtime == "torch" else f"@{self.embedder.runtime}"
        return f"{self.embedder.weights.version}{runtime}+index:{self.index.revision}"

    def categorize(self, images, words=None):
        """Categorize a list of RGB PIL images (e.g. the items of one photo); `words`: the words
        read on each (vision.text), when text is used."""
        batch = self.embedder.forward(images)
        neighbour_lists = self.index.search(batch.embeddings, self.config.searched)
        novelty = self.novelty_similarities(images)
        words = words or [()] * len(images)
        results = []
        for i, (neighbours, embedding, feature_map) in enumerate(zip(neighbour_lists, batch.embeddings,
                                                                     batch.feature_maps)):
            assignment = vote(neighbours, self.config, self.text_similarities(words[i]))
            decision = self.decide([assignment], None if novelty is None else novelty[i:i + 1])
            results.append(CategorizedImage(assignment, decision, embedding, feature_map))
        return results

    def text_similarities(self, words):
        """{category: similarity} of the words read on an item to the references' text; {} when
        text is not used or nothing was read."""
        return self.text_profiles.similarities(words) if self.text_profiles is not None else {}

    def novelty_similarities(self, images):
        """Each image's similarity to its nearest reference in the novelty space; None when that
        is the vote's own space (the vote's nearest neighbour says it)."""
        if self.novelty_embedder is None or not images:
            return None
        return self.index.novelty_search(self.novelty_embedder.embed(images), 1)[0][:, 0].tolist()

    def decide(self, assignments, novelty=None):
        """The calibrated Decision for one item's Assignment (or for several, pooled)."""
        return decide(assignments, self.index.calibration, self.target_precision, self.config, novelty,
                      self.thresholds)

    def decide_listing(self, assignments, novelty=None):
        """The calibrated Decision for a listing, from the Assignments of its photos' main items."""
        return decide_listing(assignments, self.index.calibration, self.target_precision, self.config, novelty,
                              self.thresholds)

    def explain(self, categorized):
        """The activation map of the model's best guess (its predicted path; what the review page
        calls it, beside its runners-up), or None while the index has no head to make one."""
        head = self.index.head
        if head is None:
            return None
        category_id = explained_category(head, self.index.categories, categorized.embedding,
                                         categorized.decision.predicted)
        return Explanation(self.index.categories[category_id],
                           activation_map(categorized.feature_map, head, category_id))

    def heatmap(self, categorized, crop_box):
        """(its Explanation, that map drawn over the item's crop `crop_box` of the photo, an RGBA
        image of the crop's size), or None while the index has no head to make one."""
        explanation = self.explain(categorized)
        if explanation is None:
            return None
        weights = self.embedder.weights
        size = (crop_box[2] - crop_box[0], crop_box[3] - crop_box[1])
        region = covered_region(size, weights.resize_size, weights.crop_size)
        return explanation, heatmap_overlay(explanation.activation, size, region)

    def categorize_photo(self, image, segmenter=None, lines=(), drop_unlike=True):
        """[(PhotoItem, CategorizedImage)] for the items of one photo, the main one first; `lines`:
        the text read on the photo (vision.text), each item voting with the words inside its box.

        Beside the main item, an item unlike anything in the catalogue is dropped: what the
        segmenter took for a product there (a hand, a price label, clutter) is not one a seller
        lists. The main item stays whatever it is, to say the product is not in the catalogue.

        A product detector's main item is categorized on the whole photo, background and all,
        when the photo seen whole shows it (SEEN_WHOLE_INSIDE) and names the item's own department
        (top-level category): reference photos are whole photos, and a shelf of one product looks
        like its references, where one pack cut out of it does not (bench/README.md, "One box per
        product"). A photo that names another department shows another product too, and the item
        keeps its own answer.
        """
        return self.categorize_photos([image], segmenter, [lines], drop_unlike)[0]

    def categorize_photos(self, images, segmenter=None, lines=None, drop_unlike=True):
        """categorize_photo() of several photos at once: one segmentation pass for the photos and
        one embedding pass for all their items, as a GPU wants them; `lines`: the text read on
        each photo."""
        if not images:
            return []
        items = photos_items(images, segmenter)
        lines = lines or [()] * len(images)
        crops = [item.crop(image) for image, found in zip(images, items) for item in found]
        words = [words_read(lines_within(read, item.box)) for found, read in zip(items, lines) for item in found]
        seen_whole = [i for i, (image, found) in enumerate(zip(images, items))
                      if segmenter is not None and segmenter.finds_instances and shown_whole(found[0], image.size)]
        crops += [whole_photo_item(images[i].size).crop(images[i]) for i in seen_whole]
        words += [words_read(lines[i]) for i in seen_whole]
        results = iter(self.categorize(crops, words))
        photos = [[(item, next(results)) for item in found] for found in items]
        for i in seen_whole:
            photos[i][0] = main_item_seen_whole(*photos[i][0], next(results))
        if drop_unlike:
            for categorized in photos:
                categorized[1:] = [(item, result) for item, result in categorized[1:]
                                   if result.decision.outcome != outcomes.NOT_IN_CATALOGUE]
        return photos


def shown_whole(item, photo_size):
    """Whether the photo (of `photo_size`) seen whole shows most of the item (the embedder sees its
    centre square), which is not categorized whole already."""
    if item.whole_photo:
        return False
    view = whole_photo_item(photo_size).crop_box(photo_size)
    return box_intersection(item.box, view) >= SEEN_WHOLE_INSIDE * box_area(item.box)


def main_item_seen_whole(item, result, whole):
    """(the main item, its result): categorized whole where the whole photo names its department."""
    if whole.decision.predicted[:1] != result.decision.predicted[:1]:
        return item, result
    return replace(item, whole_photo=True), whole


def build_index(catalogue_images, embedder, approximate_from=None, show_progress=True):
    """A ReferenceIndex of a scanned catalogue; reference ids are positions in the list, and the
    rows the embedder was trained on are marked so.

    Returns (index, skipped) where skipped lists the unreadable files and why.
    """
    extra = {} if approximate_from is None else {"approximate_from": approximate_from}
    index = ReferenceIndex(embedder.dimension, embedder.weights.name, embedder.weights.version, **extra)
    skipped = []
    numbered = list(enumerate(catalogue_images))
    with tqdm(total=len(numbered), desc="references", unit="img", disable=not show_progress) as bar:
        for readable, images, unreadable in load_in_batches(numbered, embedder.batch_size, _path_of_numbered, bar):
            skipped.extend(unreadable)
            if images:
                index.add(embedder.embed(images), [c.category for _, c in readable], [i for i, _ in readable],
                          [was_trained_on(c.path, embedder.weights) for _, c in readable])
    return index, skipped


def was_trained_on(path, weights):
    """Whether the photo at `path` is one `weights` were trained on."""
    return bool(weights.trained_on) and content_key(path) in weights.trained_on


def _path_of_numbered(numbered_image):
    return numbered_image[1].path
