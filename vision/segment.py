"""Find the items in a photo: a box, a mask and a crop for each.

A UNet over the pretrained EfficientNet-Lite0 encoder predicts two maps: the foreground, and
each item's distance to its own edge, scaled to 1 at its centre. Touching items share one
blob of foreground but each keeps its own peak of distance, so a watershed grown from the
peaks splits them where a plain threshold would merge them.

This module is torch-free: the network runs on ONNX Runtime (OnnxSegmenter), or on PyTorch
(vision.unet, which also builds and trains it); the items are made from its maps here either way.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy import ndimage
from skimage import measure
from skimage.morphology import local_maxima
from skimage.segmentation import watershed

from .boxes import box_area, box_intersection, mask_box

# What finds the items of a photo unless told otherwise: the product detector (vision.detect),
# one box per product, where the UNet (UNET_SEGMENTER, still shipped) merged touching neighbours.
DEFAULT_SEGMENTER = "detector_lite0"
UNET_SEGMENTER = "unet_lite0_real"
# Maps are post-processed at most this large: plenty for boxes and outlines, cheap for any photo.
WORKING_SIDE = 512
# A photo is about one item, and is categorized whole (background and all, the way reference
# photos are taken), when one item's box covers this much of it, or when no other item is at
# least SIGNIFICANT_SHARE as large as the largest, unless that lone item is small: a box under
# LONE_ITEM_CROP_BELOW of the photo is a product on a background, and is cropped. On Grocery val
# (shelf photos) the lone-item rule is worth 2-3 points of leaf accuracy; cropping small lone
# items costs 1.3 of them and is what puts their heatmaps on the product (bench/README.md).
WHOLE_PHOTO_COVERAGE = 0.6
SIGNIFICANT_SHARE = 0.5
LONE_ITEM_CROP_BELOW = 0.1


# --- post-processing -----------------------------------------------------------------------


@dataclass
class FoundItem:
    mask: np.ndarray  # bool (H, W), in the pixels of the maps it was found in
    box: tuple  # (left, top, right, bottom), right and bottom exclusive, same pixels

    @cached_property
    def area(self):  # asked for again and again while items are filtered, sorted and merged
        return int(self.mask.sum())


@dataclass(frozen=True)
class PostProcessing:
    threshold: float = 0.5  # foreground probability
    min_area: float = 0.005  # of the photo; smaller blobs are specks
    peak_height: float = 0.15  # how far distance must fall between two peaks for two items (bench/README.md)
    # An item whose box lies at least this much inside a larger item's box is a part of it (a
    # label, a lid, the hand's grip on it) and is merged into it; None merges nothing.
    merge_inside: float | None = 0.8
    # Items smaller than this share of the largest are price labels and clutter, not products.
    # Both chosen on real shop photos outside the reported ones (bench/README.md, issue 17).
    min_share: float = 0.25

    def __post_init__(self):
        # The distance map is read in 256 levels (_split): a peak height outside [0, 1] has no level.
        if not 0 <= self.peak_height <= 1:
            raise ValueError(f"peak_height is a share of the distance map's range, from 0 to 1, not {self.peak_height}")


def post_processing_from(text, base=PostProcessing()):
    """`base` (a PostProcessing, or a detector's vision.detect.DetectorSettings) with the settings
    of "name=value,..." changed ("none" for no value): the command-line form of a post-processing,
    e.g. "merge_inside=none,min_share=0"."""
    changes, fields = {}, type(base).__dataclass_fields__
    for pair in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = pair.partition("=")
        if name not in fields or not value:
            raise ValueError(f"'{pair}' is not name=value with a name of {sorted(fields)}")
        changes[name] = None if value.lower() == "none" else float(value)
    return replace(base, **changes)


def changed_settings(segmenter, text):
    """post_processing_from() of the segmenter's own settings, a bad one refused with a message (the
    commands' --post-processing)."""
    try:
        return post_processing_from(text, segmenter.settings)
    except (ValueError, TypeError) as error:  # TypeError: "none" for a setting that must have a value
        raise SystemExit(f"--post-processing: {error}") from error


def normalised_distance(labels):
    """Each labelled region's distance to its own edge, divided by its maximum (1 at its centre)."""
    distance = np.zeros(labels.shape, np.float32)
    for region, slices in enumerate(ndimage.find_objects(labels), start=1):
        if slices is None:
            continue
        inside = np.pad(labels[slices] == region, 1)
        edt = ndimage.distance_transform_edt(inside)[1:-1, 1:-1]
        if edt.max() > 0:
            distance[slices] = np.where(labels[slices] == region, edt / edt.max(), distance[slices])
    return distance


def find_items(foreground, distance, settings=PostProcessing()):
    """Items from a foreground probability map and a distance map (both (H, W), values in [0, 1]).

    Holes are filled, specks dropped, and touching items split by a watershed from the peaks
    of distance that stand at least `peak_height` above the saddle between them.
    """
    mask = _drop_specks(ndimage.binary_fill_holes(foreground >= settings.threshold), settings.min_area)
    if not mask.any():
        return []
    labels = np.zeros(mask.shape, np.int32)
    # Nothing reaches past the foreground, so the splitting (which sorts every pixel it is given)
    # is done within the foreground's box and a pixel around it.
    _, around = _box_and_around(mask)
    labels[around] = _split(mask[around], distance[around], settings.peak_height)
    items = [item for item in map(_item_of_region, _regions(labels)) if item.area >= settings.min_area * mask.size]
    items = sorted(items, key=lambda item: item.area, reverse=True)
    if settings.merge_inside is not None:
        items = _merge_parts(items, settings.merge_inside)
    return [item for item in items if item.area >= settings.min_share * items[0].area] if items else []


def _split(mask, distance, peak_height):
    """Labels of the items of a foreground mask, split by a watershed of its distance map."""
    levels = np.round(np.where(mask, np.clip(distance, 0, 1), 0) * 255).astype(np.uint8)
    # Peaks lower than peak_height above their saddle are shaved off and merge with their
    # neighbours; what stays on top (plateaus included) marks one item each.
    height = round(peak_height * 255)
    shaved = _reconstructed(np.maximum(levels, height) - height, levels)
    markers, count = ndimage.label(local_maxima(shaved) & mask)
    labels = watershed(-levels.astype(np.int32), markers, mask=mask)
    # A blob with no peak of its own (a flat distance map) is still an item.
    orphans, _ = ndimage.label(mask & (labels == 0))
    return np.where(orphans > 0, orphans + count, labels)


def _reconstructed(seed, limit):
    """The grey-level reconstruction by dilation of `seed` under `limit` (uint8 maps, seed <= limit,
    8-connected): the seed dilated by one pixel and capped by the limit, again and again until it no
    longer changes, each step one OpenCV dilation. The same maps as skimage.morphology's
    reconstruction (which sorts every pixel, twice), in a tenth of its time: 1.6 ms instead of 17
    on a Freiburg photo, most of what making items of the maps took."""
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    while True:
        grown = np.minimum(cv2.dilate(seed, kernel), limit)
        if np.array_equal(grown, seed):
            return seed
        seed = grown


def _merge_parts(items, inside):
    """Items (largest first) with those whose box is at least `inside` within a larger one's box
    merged into it."""
    kept = []
    for item in items:
        whole = next((k for k, other in enumerate(kept) if _share_inside(item.box, other.box) >= inside), None)
        if whole is None:
            kept.append(item)
        else:
            kept[whole] = _item_of_region(kept[whole].mask | item.mask)
    return kept


def _share_inside(box, outer):
    """The share of `box`'s area that lies inside `outer`."""
    area = box_area(box)
    return box_intersection(box, outer) / area if area else 0.0


def _drop_specks(mask, min_area):
    labels, _ = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_area * mask.size
    keep[0] = False
    return keep[labels]


def _regions(labels):
    for region, slices in enumerate(ndimage.find_objects(labels), start=1):
        if slices is not None:
            yield labels == region


def _item_of_region(region):
    """The region with its holes filled. A hole lies inside the region's box, so only the box (and
    a pixel around it, where the outside can reach the box's edge) is filled: the same mask for a
    fraction of the work on a small item."""
    box, around = _box_and_around(region)
    mask = region.copy()
    mask[around] = ndimage.binary_fill_holes(region[around])
    return FoundItem(mask, box)


def _box_and_around(mask):
    """(mask_box(mask), the slices of that box with a pixel around it, within the mask's bounds)."""
    left, top, right, bottom = box = mask_box(mask)
    return box, (slice(max(top - 1, 0), bottom + 1), slice(max(left - 1, 0), right + 1))


# --- from a photo to its items -------------------------------------------------------------


@dataclass
class PhotoItem:
    """An item of a photo, in the photo's own pixels."""

    box: tuple  # (left, top, right, bottom)
    mask: np.ndarray | None  # bool, at the working resolution (mask_scale photo pixels per mask pixel)
    mask_scale: float
    coverage: float  # fraction of the photo the item's box covers
    whole_photo: bool = False  # categorized as the whole photo, background and all (photo_items)
    score: float = 1.0  # how sure the item finder is that this is a product (a detector's score; 1 from masks)

    def crop_box(self, image_size, margin=0.3):
        """What gets categorized: the box with a margin of its own size around it, widened to a
        square inside the photo (or the whole photo's centre square, for a whole-photo item). The
        embedder sees the centre square of what it is given, so a square crop shows it all of a
        long item, with some context around (bench/README.md)."""
        left, top, right, bottom = (0, 0, *image_size) if self.whole_photo else self.box
        width, height = (right - left) * (1 + 2 * margin), (bottom - top) * (1 + 2 * margin)
        side = min(max(width, height), *image_size)
        left = min(max(0.0, (left + right - side) / 2), image_size[0] - side)
        top = min(max(0.0, (top + bottom - side) / 2), image_size[1] - side)
        return round(left), round(top), round(left + side), round(top + side)

    def crop(self, image, margin=0.3):
        """The item with some context around it, as references have."""
        return image.crop(self.crop_box(image.size, margin))

    def outline(self, tolerance=1.0):
        """The mask's contours as polygons [[x, y], ...] in photo pixels, simplified, for drawing."""
        polygons = []
        if self.mask is None:
            return polygons
        for contour in measure.find_contours(np.pad(self.mask, 1).astype(np.uint8), 0.5):
            corners = measure.approximate_polygon(contour, tolerance) - 1
            if len(corners) >= 3:
                polygons.append([[round(x * self.mask_scale, 1), round(y * self.mask_scale, 1)] for y, x in corners])
        return polygons


class Segmenter:
    """Finds the items in photos from the two maps its network predicts (predict_many, per
    runtime: vision.unet.TorchSegmenter on PyTorch, OnnxSegmenter on ONNX Runtime)."""

    version = ""  # the network's weights
    input_size = 0  # the side of the square its network sees
    settings = PostProcessing()
    finds_instances = False  # a product detector's items are one product each (vision.detect)
    threads = 1  # post-processing threads when segment_many is not told

    def predict(self, image, size=None):
        """(foreground, distance) probability maps of an RGB PIL image, at `size` (H, W)."""
        return self.predict_many([image], [size])[0]

    def predict_many(self, images, sizes=None):
        """predict() of several images in one forward pass: [(foreground, distance)]."""
        raise NotImplementedError

    def segment(self, image):
        """The items of an RGB PIL image, largest first."""
        return self.segment_many([image])[0]

    def segment_many(self, images, threads=None):
        """segment() of several images, their maps predicted in one forward pass and made into
        items on `threads` threads (default: the runtime's intra-op threads). The maps' post-processing
        (SciPy, scikit-image) lets go of the GIL and costs a CPU 15-40 ms a photo, more than
        a GPU takes for a whole pass: on one thread it is what a GPU worker waits on."""
        maps = self.predict_many(images)
        threads = min(len(images), threads or self.threads)
        if threads <= 1:
            return [self._items(image, *one) for image, one in zip(images, maps)]
        with ThreadPoolExecutor(threads, thread_name_prefix="segment") as pool:
            return list(pool.map(self._items, images, *zip(*maps)))

    def _items(self, image, foreground, distance):
        scale = image.width / foreground.shape[1]
        items = []
        for found in find_items(foreground, distance, self.settings):
            left, top, right, bottom = (round(v * scale) for v in found.box)
            coverage = (right - left) * (bottom - top) / (image.width * image.height)
            items.append(PhotoItem((left, top, right, bottom), found.mask, scale, coverage))
        return sorted(items, key=lambda item: item.coverage, reverse=True)


def photo_items(image, segmenter):
    """The items to categorize: those found, or one item categorized as the whole photo when the
    photo is about one item that is not small (its box and outline stay the item's own), when
    nothing is found or when there is no segmenter (its box is then the photo's)."""
    return photos_items([image], segmenter)[0]


def photos_items(images, segmenter):
    """photo_items() of several photos, segmented in one forward pass."""
    found = segmenter.segment_many(images) if segmenter is not None and images else [[] for _ in images]
    instances = segmenter is not None and segmenter.finds_instances
    return [_items_to_categorize(image, items, instances) for image, items in zip(images, found)]


def _items_to_categorize(image, items, instances=False):
    if not items:
        return [whole_photo_item(image.size)]
    if _photo_is_about_one_item(items, instances):
        return [replace(items[0], whole_photo=True)]
    return items


def whole_photo_item(size):
    """The whole photo (of `size`, width and height) as one item, its box the photo's."""
    return PhotoItem((0, 0, *size), None, 1.0, 1.0, whole_photo=True)


def _photo_is_about_one_item(items, instances):
    """Whether the photo is about its main item. A segmenter's items beside a large one are often
    its parts or a neighbour it cut in two, so they are outweighed; a detector's are products of
    their own (vision.detect), so only a lone one makes the photo about one item."""
    largest = items[0].coverage
    if instances:
        return len(items) == 1 and largest >= LONE_ITEM_CROP_BELOW
    rivals = [item for item in items[1:] if item.coverage >= SIGNIFICANT_SHARE * largest]
    return largest >= WHOLE_PHOTO_COVERAGE or (not rivals and largest >= LONE_ITEM_CROP_BELOW)


def working_size(image):
    scale = min(1.0, WORKING_SIDE / max(image.size))
    return max(1, round(image.height * scale)), max(1, round(image.width * scale))


class OnnxSegmenter(Segmenter):
    """The Segmenter on ONNX Runtime: the UNet exported by vision/training/export_onnx.py
    (--segmenters), the maps resized and post-processed in NumPy as on PyTorch."""

    runtime = "onnxruntime"

    def __init__(self, path, threads=None, provider="cpu", settings=PostProcessing()):
        from .onnx_runtime import SEGMENTER_EXPORT_HINT, session

        self._session = session(path, threads, provider, SEGMENTER_EXPORT_HINT)
        props = self._session.get_modelmeta().custom_metadata_map
        self.version, self.input_size = props["version"], int(props["input_size"])
        self.settings, self.device = settings, None
        # As many as the session computes with (ONNX Runtime's default: one per core).
        self.threads = threads or os.cpu_count()

    def predict_many(self, images, sizes=None):
        from .onnx_runtime import bilinear, squeezed

        sizes = [size or working_size(image) for image, size in zip(images, sizes or [None] * len(images))]
        logits = self._session.run(["logits"], {"images": np.stack([squeezed(image, self.input_size)
                                                                    for image in images])})[0]
        return [tuple(1 / (1 + np.exp(-bilinear(one, size)))) for one, size in zip(logits, sizes)]
