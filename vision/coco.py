"""Photos with boxed products, read from a COCO instances file, and their fixed validation part.

Only what item finding needs is read: each image's `file_name` (relative to the photos folder),
and each annotation's `bbox` ([x, y, width, height] in pixels) with its category, whose path is
supercategory > name (or the name alone). Masks (`segmentation`) are optional and not used:
boxes are the supervision. A malformed file is refused with what is wrong and where; a photo
that is listed but missing on disk is kept, so that a run names it among the unreadable. Boxes
with no area (slips of the labelling tool) are left out.
"""

import json
import os
from collections import Counter
from dataclasses import dataclass

from .catalogue import CatalogueImage
from .splits import holdout_split, photo_occasions


class InstancesError(ValueError):
    """The instances file cannot be used; the message names the file and the faulty entry."""


@dataclass(frozen=True)
class Product:
    box: tuple  # (left, top, right, bottom) in the photo's pixels, right and bottom exclusive
    category: tuple  # category path


@dataclass(frozen=True)
class LabelledPhoto:
    path: str
    products: tuple  # (Product, ...); possibly not every product of the photo

    @property
    def category(self):
        """The photo's product: the category of most of its boxes (ties: the first boxed)."""
        if not self.products:
            return ()
        counts = Counter(product.category for product in self.products)
        return max(counts, key=lambda category: (counts[category], -self._first(category)))

    def _first(self, category):
        return next(i for i, product in enumerate(self.products) if product.category == category)

    def as_catalogue_image(self):
        return CatalogueImage(self.path, self.category)


def load_instances(path, photos_dir):
    """[LabelledPhoto] of a COCO instances file, in the file's order; photos without boxes are kept
    (every product they show is then unlabelled). Raises InstancesError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InstancesError(f"{path}: not a readable JSON file ({error})") from error
    if not isinstance(data, dict):
        raise InstancesError(f"{path}: expected a JSON object with images, annotations and categories")
    categories = {entry_id: _category_path(path, entry) for entry_id, entry in _entries(path, data, "categories")}
    images = {entry_id: _photo_path(path, photos_dir, entry) for entry_id, entry in _entries(path, data, "images")}
    boxes = {image_id: [] for image_id in images}
    for position, annotation in enumerate(_list(path, data, "annotations")):
        where = f"{path}: annotations[{position}]"
        image_id, category_id = _field(where, annotation, "image_id"), _field(where, annotation, "category_id")
        if image_id not in images:
            raise InstancesError(f"{where}: image_id {image_id!r} is not among the images")
        if category_id not in categories:
            raise InstancesError(f"{where}: category_id {category_id!r} is not among the categories")
        box = _box(where, annotation)
        if box[2] > box[0] and box[3] > box[1]:  # a box with no area is a labelling slip, not a product
            boxes[image_id].append(Product(box, categories[category_id]))
    return [LabelledPhoto(images[image_id], tuple(boxes[image_id])) for image_id in images]


def _list(path, data, key):
    value = data.get(key)
    if not isinstance(value, list):
        raise InstancesError(f"{path}: '{key}' must be a list")
    return value


def _entries(path, data, key):
    seen = set()
    for position, entry in enumerate(_list(path, data, key)):
        entry_id = _field(f"{path}: {key}[{position}]", entry, "id")
        if entry_id in seen:
            raise InstancesError(f"{path}: {key}[{position}]: id {entry_id!r} is used twice")
        seen.add(entry_id)
        yield entry_id, entry


def _field(where, entry, key):
    if not isinstance(entry, dict) or key not in entry:
        raise InstancesError(f"{where}: has no '{key}'")
    return entry[key]


def _category_path(path, entry):
    name = _field(f"{path}: category {entry.get('id')!r}", entry, "name")
    parent = entry.get("supercategory")
    return (parent, name) if parent and parent != name else (name,)


def _photo_path(path, photos_dir, entry):
    where = f"{path}: image {entry.get('id')!r}"
    name = _field(where, entry, "file_name")
    if not isinstance(name, str) or not name or os.path.isabs(name) or ".." in name.split("/"):
        raise InstancesError(f"{where}: file_name {name!r} must be a path inside the photos folder")
    return os.path.join(photos_dir, name)


def _box(where, annotation):
    box = _field(where, annotation, "bbox")
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
        raise InstancesError(f"{where}: bbox must be [x, y, width, height], not {box!r}")
    x, y, width, height = box
    if width < 0 or height < 0:
        raise InstancesError(f"{where}: bbox {box!r} has a negative size")
    return x, y, x + width, y + height


def validation_part(photos, fraction=0.2, seed=0, device=None):
    """(the rest, the validation part) of [LabelledPhoto]: the held-out part that
    `vision.evaluate --holdout-fraction` and `train_embedder --holdout-fraction` take of the same
    photos as a folder tree, in whole occasions (vision.splits), so a validation photo has no
    near-twin among the rest. Photos without boxes or unreadable stay in the rest."""
    labelled = [photo for photo in photos if photo.products and os.path.isfile(photo.path)]
    images = [photo.as_catalogue_image() for photo in labelled]
    _, held = holdout_split(images, fraction, seed, photo_occasions(images, device, runtime="torch"))
    held_paths = {image.path for image in held}
    return ([photo for photo in photos if photo.path not in held_paths],
            [photo for photo in photos if photo.path in held_paths])
