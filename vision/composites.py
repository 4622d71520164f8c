"""Synthetic multi-item photos with exact masks, for training and measuring segmentation.

Product cut-outs (packshots on white, background removed) are pasted 1–4 per image at random
position, scale and rotation onto backgrounds (object-free crops of real photos, or plain
backdrops), sometimes touching or overlapping. Every item's mask is the pixels of it that
stay visible, so the boxes and masks are exact by construction. The composites of the shared
datasets (Grocery's packshots of one piece on ECSSD's validation part) are the ones segmentation
training and its measurement use.
"""

import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter
from scipy import ndimage

from .boxes import mask_box
from .images import load_image

# Packshot backgrounds are white or nearly; anything this bright and joined to the border is backdrop.
WHITE_LEVEL = 250
MAX_ITEMS = 4
# A pasted item may hide at most this much of an item under it.
MAX_HIDDEN = 0.35
# Masks this close (in pixels) count as touching.
TOUCH_DISTANCE = 2
VALIDATION_EVERY = 5
# The shared datasets composites are made of by default: Grocery's packshots and ECSSD's photos.
SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets")
DEFAULT_CUT_OUTS = os.path.join(SHARED, "grocery-store", "dataset", "iconic-images-and-descriptions")
DEFAULT_ECSSD = os.path.join(SHARED, "ecssd")
# Packshots of several loose pieces (three limes, a heap of potatoes, a fruit and its half):
# whether they are one item or several is ambiguous, so composites leave them out and each
# pasted cut-out is one item. Names are the packshots' folder names.
SEVERAL_PIECES = frozenset({
    "Beef-Tomato", "Brown-Cap-Mushroom", "Carrots", "Floury-Potato", "Kiwi", "Lime", "Papaya",
    "Passion-Fruit", "Plum", "Red-Beet", "Regular-Tomato", "Satsumas", "Solid-Potato", "Yellow-Onion",
})


def cut_out(image):
    """An RGBA cut-out of the product in a packshot on a white background, cropped to it."""
    pixels = np.asarray(image.convert("RGB"))
    backdrop, _ = ndimage.label(pixels.min(axis=2) >= WHITE_LEVEL)
    border_labels = np.unique(np.concatenate([backdrop[0], backdrop[-1], backdrop[:, 0], backdrop[:, -1]]))
    product = ~np.isin(backdrop, border_labels[border_labels > 0])
    labels, count = ndimage.label(product)
    if count == 0:
        raise ValueError("no product found on the packshot")
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    # Two pixels of erosion drop the light halo that anti-aliasing leaves around the product.
    # Closing bridges thin white seams (carton edges) that would let the backdrop leak inside.
    product = ndimage.binary_closing(labels == largest, iterations=3, border_value=0)
    alpha = ndimage.binary_erosion(ndimage.binary_fill_holes(product), iterations=2)
    crop = mask_box(alpha)
    rgba = image.convert("RGB").crop(crop)
    rgba.putalpha(Image.fromarray(alpha[crop[1]:crop[3], crop[0]:crop[2]].astype(np.uint8) * 255))
    return rgba


def load_mask(path):
    """A binary mask image as bool: a pixel > 127 is foreground."""
    return np.asarray(Image.open(path).convert("L")) > 127


def load_cut_outs(paths):
    return [cut_out(load_image(path)) for path in paths]


def list_images(folder):
    """Files under `folder` in any image format Pillow reads (by extension), recursively, sorted."""
    extensions = tuple(Image.registered_extensions())
    return sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.lower().endswith(extensions)
    )


def split_pairs(pairs):
    """{"train": [...], "val": [...]}: every fifth pair (in sorted order) is validation, for good."""
    return {
        "train": [pair for i, pair in enumerate(pairs) if i % VALIDATION_EVERY != VALIDATION_EVERY - 1],
        "val": [pair for i, pair in enumerate(pairs) if i % VALIDATION_EVERY == VALIDATION_EVERY - 1],
    }


@dataclass
class Composite:
    image: Image.Image
    masks: list  # [bool (H, W)] the visible pixels of each pasted item
    touching: list = field(default_factory=list)  # [(i, j)] items whose masks touch
    sources: list = field(default_factory=list)  # the index of each item's cut-out

    @property
    def boxes(self):
        return [mask_box(mask) for mask in self.masks]

    def labels(self):
        """(H, W) int: 0 for background, i + 1 for the pixels of item i."""
        labels = np.zeros(self.image.size[::-1], np.int32)
        for i, mask in enumerate(self.masks):
            labels[mask] = i + 1
        return labels


class Backgrounds:
    """Object-free crops of photos that come with foreground masks (e.g. ECSSD), or plain backdrops."""

    def __init__(self, image_paths, mask_paths, plain_share=0.25):
        self.pairs = list(zip(image_paths, mask_paths))
        self.plain_share = plain_share

    def draw(self, rng, size):
        if not self.pairs or rng.random() < self.plain_share:
            return _plain_backdrop(rng, size)
        for _ in range(20):
            image_path, mask_path = self.pairs[rng.integers(len(self.pairs))]
            crop = _object_free_crop(rng, load_image(image_path), load_mask(mask_path))
            if crop is not None:
                return crop.resize((size, size), Image.BICUBIC)
        return _plain_backdrop(rng, size)


def _object_free_crop(rng, image, mask):
    height, width = mask.shape
    for _ in range(15):
        side = int(min(height, width) * rng.uniform(0.3, 0.6))
        left, top = rng.integers(0, width - side + 1), rng.integers(0, height - side + 1)
        if mask[top:top + side, left:left + side].mean() < 0.002:
            return image.crop((left, top, left + side, top + side))
    return None


def _plain_backdrop(rng, size):
    """A flat or gently graded colour with a little noise, like a table or a backdrop sheet."""
    start, end = rng.uniform(40, 245, 3), rng.uniform(40, 245, 3)
    ramp = np.linspace(0, 1, size)[:, None, None] if rng.random() < 0.5 else np.linspace(0, 1, size)[None, :, None]
    pixels = start + (end - start) * ramp * rng.uniform(0, 0.5) + rng.normal(0, 4, (size, size, 3))
    return Image.fromarray(np.clip(np.broadcast_to(pixels, (size, size, 3)), 0, 255).astype(np.uint8))


@dataclass(eq=False)
class CompositeGenerator:
    """Composite number i of a given seed is always the same image."""

    cut_outs: list
    backgrounds: object
    size: int = 320
    seed: int = 0
    touching_share: float = 0.4
    max_items: int = MAX_ITEMS

    def __call__(self, index):
        rng = np.random.default_rng([self.seed, index])
        canvas = self.backgrounds.draw(rng, self.size).convert("RGB")
        owner = np.full((self.size, self.size), -1, np.int32)
        pasted_areas, sources = [], []
        for _ in range(rng.integers(1, self.max_items + 1)):
            source = int(rng.integers(len(self.cut_outs)))
            item = self._transformed_cut_out(rng, self.cut_outs[source], len(pasted_areas))
            placed = self._place(rng, item, owner, pasted_areas)
            if placed is None:
                continue
            left, top, alpha = placed
            canvas.paste(item.convert("RGB"), (left, top), _soft(item.getchannel("A")))
            owner[top:top + item.height, left:left + item.width][alpha] = len(pasted_areas)
            pasted_areas.append(int(alpha.sum()))
            sources.append(source)
        masks = [owner == i for i in range(len(pasted_areas))]
        return Composite(canvas, masks, _touching_pairs(masks), sources)

    def _transformed_cut_out(self, rng, item, already_placed):
        if rng.random() < 0.5:
            item = item.transpose(Image.FLIP_LEFT_RIGHT)
        item = item.rotate(rng.uniform(-30, 30), resample=Image.BICUBIC, expand=True)
        largest = 0.75 if already_placed == 0 else 0.5
        scale = self.size * rng.uniform(0.2, largest) / max(item.size)
        item = item.resize((max(8, round(item.width * scale)), max(8, round(item.height * scale))), Image.BICUBIC)
        rgb = ImageEnhance.Brightness(item.convert("RGB")).enhance(rng.uniform(0.75, 1.2))
        rgb.putalpha(item.getchannel("A"))
        return rgb

    def _place(self, rng, item, owner, pasted_areas):
        """(left, top, alpha) of a spot that hides no item too much, or None after some tries."""
        alpha = np.asarray(item.getchannel("A")) > 127
        beside = pasted_areas and rng.random() < self.touching_share
        for _ in range(30):
            left, top = self._beside(rng, item, owner) if beside else self._anywhere(rng, item)
            if left < 0 or top < 0 or left + item.width > self.size or top + item.height > self.size:
                continue
            under = owner[top:top + item.height, left:left + item.width][alpha]
            hidden = np.bincount(under[under >= 0], minlength=len(pasted_areas))
            if all(h <= MAX_HIDDEN * area for h, area in zip(hidden, pasted_areas)):
                return left, top, alpha
        return None

    def _anywhere(self, rng, item):
        return rng.integers(0, self.size - item.width + 1), rng.integers(0, self.size - item.height + 1)

    def _beside(self, rng, item, owner):
        """A spot whose centre is a little closer to an item's centre than their sizes add up to."""
        rows, columns = np.nonzero(owner == rng.integers(owner.max() + 1))
        if len(rows) == 0:
            return self._anywhere(rng, item)
        angle = rng.uniform(0, 2 * np.pi)
        reach = (np.sqrt(len(rows)) + np.sqrt(item.width * item.height)) / 2 * rng.uniform(0.7, 1.0)
        centre_x, centre_y = columns.mean() + reach * np.cos(angle), rows.mean() + reach * np.sin(angle)
        return round(centre_x - item.width / 2), round(centre_y - item.height / 2)


def _soft(alpha):
    """A slightly blurred paste mask: hard cut edges would be a giveaway the network could learn."""
    return alpha.filter(ImageFilter.GaussianBlur(0.7))


def _touching_pairs(masks):
    grown = [ndimage.binary_dilation(mask, iterations=TOUCH_DISTANCE) for mask in masks]
    return [(i, j) for i in range(len(masks)) for j in range(i + 1, len(masks)) if (grown[i] & masks[j]).any()]


# --- composites of datasets ------------------------------------------------------------------

def paired_masks(image_dir, mask_dir):
    """[(image path, mask path)] matched by file stem, sorted."""
    images = {os.path.splitext(os.path.basename(p))[0]: p for p in list_images(image_dir)}
    masks = {os.path.splitext(os.path.basename(p))[0]: p for p in list_images(mask_dir)}
    return [(images[stem], masks[stem]) for stem in sorted(images.keys() & masks.keys())]


def split_folder_pairs(folder):
    """split_pairs of the image/mask pairs of a folder holding images/ and masks/ (ECSSD's layout)."""
    return split_pairs(paired_masks(os.path.join(folder, "images"), os.path.join(folder, "masks")))


def single_piece_cut_outs(folder):
    """Cut-outs of the packshots under `folder`, less those of several loose pieces."""
    paths = [p for p in list_images(folder) if os.path.basename(os.path.dirname(p)) not in SEVERAL_PIECES]
    return load_cut_outs(paths)


def composite_generator(cut_out_dir, background_dir, size, seed, split="val"):
    pairs = split_folder_pairs(background_dir)
    backgrounds = Backgrounds(*zip(*pairs[split])) if pairs[split] else Backgrounds([], [])
    return CompositeGenerator(single_piece_cut_outs(cut_out_dir), backgrounds, size=size, seed=seed)
