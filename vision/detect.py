"""Find the items in a photo with a class-agnostic product detector: a box per product instance.

A foreground mask cannot tell two touching cartons apart; a detector predicts one box per
product. Its network (vision.detector_net, on the EfficientNet-Lite0 encoder the UNet uses) sees
the whole photo squeezed to a square, as the segmenter does, and predicts two maps at an eighth
of its input side ("TTFNet"-style, Liu et al. 2020): a product-centre heat map, and at every
cell the distances from it to the four sides of the product's box. The boxes are decoded here:
each local peak of the heat map above the score threshold is a product, boxes overlapping a
higher-scoring one beyond IoU 0.5 are dropped (non-maximum suppression), and so are boxes much
smaller than the main product (price labels, clutter) and those lying inside a larger one (a
label on a pack).

This module is torch-free, like vision.segment: the network runs on ONNX Runtime (OnnxDetector)
or on PyTorch (vision.detector_net.TorchDetector), and the items are made from its maps here.
A detector is a vision.segment.Segmenter: everything that finds items (the worker, the
evaluations) takes either, by name.
"""

import json
import math
import os
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from .boxes import MATCH_IOU, box_area, box_intersection, box_iou
from .segment import PhotoItem, PostProcessing, Segmenter, working_size

# A pixel is on a UNet's foreground map above this probability: the UNet's own threshold.
ON_FOREGROUND = PostProcessing.threshold
# The heat map and the box distances are predicted at this stride of the network's input.
STRIDE = 8
# The box distances are predicted in units of this many input pixels (the network's raw output,
# after a ReLU, times this): a unit the size of a small product keeps the regression well scaled.
DISTANCE_UNIT = 16.0
# At most this many peaks of the heat map are read: a photo never shows more products than that.
MAX_PEAKS = 50


@dataclass(frozen=True)
class DetectorSettings:
    # A heat-map peak at least this high is a product. The trained file carries the one chosen on
    # its training photos' tuning part (vision/training/train_detector.py); this is the fallback.
    score_threshold: float = 0.3
    # A box overlapping a higher-scoring one beyond this IoU is the same product found twice.
    nms_iou: float = MATCH_IOU
    # A box lying at least this much inside a larger, higher-scoring box is a part of it (a label).
    inside: float = 0.8
    # Boxes smaller than this share of the main product's box are clutter, not products.
    min_share: float = 0.1
    # Where the detector has a foreground map (Detector.foreground), a box beside the main one
    # with less of its area on the foreground than this lies behind the photo's subject: the
    # shelf behind a carton held up. Chosen on the tuning part of the detector's training photos
    # (bench/README.md, "One box per product"): the largest share costing at most half a point
    # of item recall there. An item with at least this share on the foreground has its mask (its
    # outline) cut to the foreground; under it, the UNet missed it and it keeps its box (shaped:
    # measured at this share only, not chosen for it).
    min_foreground: float = 0.3

    def __post_init__(self):
        for name in ("score_threshold", "nms_iou", "inside", "min_share", "min_foreground"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is between 0 and 1, not {getattr(self, name)}")


def peaks(heat, count=MAX_PEAKS):
    """[(score, row, column)] of the local maxima (3×3) of an (h, w) heat map, highest first."""
    is_peak = (heat == ndimage.maximum_filter(heat, size=3, mode="constant", cval=-np.inf)) & (heat > 0)
    rows, columns = np.nonzero(is_peak)
    scores = heat[rows, columns]
    order = np.argsort(-scores, kind="stable")[:count]
    return [(float(scores[i]), int(rows[i]), int(columns[i])) for i in order]


def decode(heat, distances, input_size, score_threshold):
    """[(score, (left, top, right, bottom))] in the network's input pixels: a box for every peak of
    the heat map (h, w; probabilities) at least `score_threshold` high, from the distances (4, h, w;
    in input pixels) predicted at its cell, highest score first."""
    found = []
    for score, row, column in peaks(heat):
        if score < score_threshold:
            break
        x, y = (column + 0.5) * STRIDE, (row + 0.5) * STRIDE
        left, top, right, bottom = distances[:, row, column]
        box = (max(x - left, 0.0), max(y - top, 0.0), min(x + right, input_size), min(y + bottom, input_size))
        if box[2] > box[0] and box[3] > box[1]:
            found.append((score, box))
    return found


def suppressed(found, settings=DetectorSettings()):
    """`found` ([(score, box)], highest first) less the boxes that are another's duplicate (IoU
    over nms_iou with a higher-scoring one), part (inside it by `inside`) or clutter (under
    min_share of the main product: the largest of the boxes scoring at least half the best)."""
    kept = []
    for score, box in found:
        if all(box_iou(box, other) <= settings.nms_iou and not _is_part(box, other, settings.inside)
               for _, other in kept):
            kept.append((score, box))
    if not kept:
        return []
    main = max(box_area(box) for score, box in kept if score >= kept[0][0] / 2)
    return [(score, box) for score, box in kept if box_area(box) >= settings.min_share * main]


def _is_part(box, other, inside):
    area = box_area(box)
    return area < box_area(other) and area > 0 and box_intersection(box, other) / area >= inside


class Detector(Segmenter):
    """Finds the items of photos as boxes (predict_many, per runtime: the network's heat map and
    box distances at its input size). An item's mask is its box filled, at the working size the
    segmenter's masks have, and with a foreground UNet (with_foreground) cut to its foreground
    within the box (shaped): its outline on the pages follows the product."""

    settings = DetectorSettings()
    finds_instances = True
    # A UNet (vision.segment.Segmenter) whose foreground map tells the photo's subject from what
    # lies behind it (with_foreground); None: no box is dropped as behind, and masks stay boxes.
    foreground = None
    network_version = ""  # the detector network's own weights
    # The content keys (vision.content_keys) of the photos it trained on: measuring on them would
    # flatter it (vision.evaluate_items refuses them).
    trained_on = frozenset()

    @property
    def version(self):
        """The network's weights, and the foreground UNet's where there is one: what every
        prediction records, since both decide the items."""
        return self.network_version + (f"+foreground:{self.foreground.version}" if self.foreground else "")

    @version.setter
    def version(self, value):
        self.network_version = value

    def segment_many(self, images, threads=None):
        found = super().segment_many(images, threads)
        with_items = [i for i, items in enumerate(found) if items]
        if self.foreground is None or not with_items:
            return found
        maps = self.foreground.predict_many([images[i] for i in with_items])
        for i, (foreground, _) in zip(with_items, maps):
            in_sight = in_front(found[i], foreground, self.settings.min_foreground)
            found[i] = shaped(in_sight, foreground, self.settings.min_foreground)
        return found

    def _items(self, image, heat, distances):
        scale_x, scale_y = image.width / self.input_size, image.height / self.input_size
        height, width = working_size(image)
        mask_scale = image.width / width
        items = []
        for score, box in suppressed(decode(heat, distances, self.input_size, self.settings.score_threshold),
                                     self.settings):
            left, top = round(box[0] * scale_x), round(box[1] * scale_y)
            right, bottom = max(round(box[2] * scale_x), left + 1), max(round(box[3] * scale_y), top + 1)
            coverage = (right - left) * (bottom - top) / (image.width * image.height)
            mask = _filled((left, top, right, bottom), (height, width), mask_scale)
            items.append(PhotoItem((left, top, right, bottom), mask, mask_scale, coverage, score=score))
        return sorted(items, key=main_item_order, reverse=True)


def foreground_shares(items, foreground):
    """Each item's share of its box on the foreground map (h, w; probabilities, at the working size
    of the items' masks, which are their boxes filled): what in_front and shaped decide by."""
    on_foreground = foreground > ON_FOREGROUND
    return [float(on_foreground[item.mask].mean()) for item in items]


def in_front(items, foreground, min_foreground):
    """`items` (the main one first) less those beside the main one with under `min_foreground` of
    their box on the foreground map (foreground_shares)."""
    shares = foreground_shares(items, foreground)
    return items[:1] + [item for item, share in zip(items[1:], shares[1:]) if share >= min_foreground]


def shaped(items, foreground, min_foreground):
    """`items` with each mask cut to the foreground map (as in_front's) within its box, so that its
    outline follows the product, not its box; an item with under `min_foreground` of its box on the
    foreground keeps its box (the UNet missed most of it, and a box says more than a speck)."""
    on_foreground = foreground > ON_FOREGROUND
    return [_outlined(item, on_foreground) if share >= min_foreground else item
            for item, share in zip(items, foreground_shares(items, foreground))]


def _outlined(item, on_foreground):
    """`item` with its mask the largest piece of the foreground within its box, holes filled: a
    product is one piece, and what else lies in its box is a neighbour's edge or a speck."""
    pieces, count = ndimage.label(item.mask & on_foreground)
    if not count:
        return item
    largest = np.argmax(np.bincount(pieces.ravel())[1:]) + 1
    return replace(item, mask=ndimage.binary_fill_holes(pieces == largest))


def with_foreground(detector, segmenter):
    """`detector` dropping the boxes that lie behind the photo's subject on `segmenter`'s
    foreground map, and shaping its items' masks on it (its version then names both)."""
    detector.foreground = segmenter
    return detector


def _filled(box, shape, scale):
    """A bool mask of `shape` with `box` (in photo pixels, `scale` of them a mask pixel) filled."""
    left, top = int(box[0] / scale), int(box[1] / scale)
    right, bottom = max(math.ceil(box[2] / scale), left + 1), max(math.ceil(box[3] / scale), top + 1)
    mask = np.zeros(shape, bool)
    mask[top:bottom, left:right] = True
    return mask


def main_item_order(item):
    """What makes an item the photo's main one: its size, weighed by how sure the detector is that
    it is a product (a large box the detector barely believes in does not outrank a sure one)."""
    return item.coverage * item.score


class OnnxDetector(Detector):
    """The Detector on ONNX Runtime: the network exported by vision/training/export_onnx.py
    (--segmenters), its maps decoded in NumPy as on PyTorch."""

    runtime = "onnxruntime"

    def __init__(self, path, threads=None, provider="cpu", settings=None):
        from .onnx_runtime import SEGMENTER_EXPORT_HINT, session

        self._session = session(path, threads, provider, SEGMENTER_EXPORT_HINT)
        props = self._session.get_modelmeta().custom_metadata_map
        self.version, self.input_size = props["version"], int(props["input_size"])
        self.settings = settings or DetectorSettings(score_threshold=float(props["score_threshold"]))
        self.trained_on = frozenset(json.loads(props.get("trained_on", "[]")))
        self.device = None
        self.threads = threads or os.cpu_count()

    def predict_many(self, images, sizes=None):
        from .onnx_runtime import squeezed

        maps = self._session.run(["maps"], {"images": np.stack([squeezed(image, self.input_size)
                                                                for image in images])})[0]
        return [heat_and_distances(one) for one in maps]


def heat_and_distances(maps):
    """(heat map probabilities (h, w), box distances in input pixels (4, h, w)) of the network's
    raw output (5, h, w): a logit, then the four distances in DISTANCE_UNITs before their ReLU."""
    maps = maps.astype(np.float32)
    return 1 / (1 + np.exp(-maps[0])), np.maximum(maps[1:], 0) * DISTANCE_UNIT
