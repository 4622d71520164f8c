"""Test photos: real Grocery Store photos from ../shared, uploads built from images, stored files."""

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")
GROCERY = os.path.join(SHARED, "grocery-store", "dataset")
ECSSD = os.path.join(SHARED, "ecssd")
FREIBURG = os.path.join(SHARED, "freiburg-groceries")

# Three leaves at two depths, visually distinct: enough for the real backbone to separate.
SMALL_CATALOGUE_LEAVES = ("Fruit/Banana", "Fruit/Apple/Granny-Smith", "Vegetables/Carrots")


def grocery_images(split, leaf, count):
    folder = os.path.join(GROCERY, split, leaf)
    if not os.path.isdir(folder):
        pytest.skip(f"the Grocery Store dataset is not at {GROCERY}")
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))[:count]]


def freiburg_instances():
    """The Freiburg groceries' COCO instances (boxes of real shop photos), as loaded JSON."""
    path = os.path.join(FREIBURG, "instances.json")
    if not os.path.isfile(path):
        pytest.skip(f"the Freiburg groceries are not at {FREIBURG}")
    with open(path) as handle:
        return json.load(handle)


def copy_boxed_freiburg(destination, products=("Drinks/Water", "Pantry/Beans"), per_product=10, boxed=3):
    """(photos folder, instances file, number of boxes): the first `per_product` Freiburg photos of
    each product copied under destination/photos, the first `boxed` of each with their labelled
    boxes in destination/instances.json."""
    instances = freiburg_instances()
    photos, kept = destination / "photos", []
    for product in products:
        names = sorted(os.listdir(os.path.join(FREIBURG, "photos", product)))[:per_product]
        (photos / product).mkdir(parents=True)
        for name in names:
            shutil.copy(os.path.join(FREIBURG, "photos", product, name), photos / product)
        kept += [f"{product}/{name}" for name in names[:boxed]]
    images = [image for image in instances["images"] if image["file_name"] in kept]
    ids = {image["id"] for image in images}
    annotations = [a for a in instances["annotations"] if a["image_id"] in ids]
    (destination / "instances.json").write_text(json.dumps({"images": images, "categories": instances["categories"],
                                                            "annotations": annotations}))
    return photos, destination / "instances.json", len(annotations)


def freiburg_photo(file_name):
    """A Freiburg photo (its file name relative to photos/) as an RGB image, with its boxes."""
    instances = freiburg_instances()
    [image] = [image for image in instances["images"] if image["file_name"] == file_name]
    boxes = [a["bbox"] for a in instances["annotations"] if a["image_id"] == image["id"]]
    return Image.open(os.path.join(FREIBURG, "photos", file_name)).convert("RGB"), boxes


def copy_small_catalogue(destination, split, per_leaf):
    for leaf in SMALL_CATALOGUE_LEAVES:
        target = destination / leaf
        target.mkdir(parents=True)
        for path in grocery_images(split, leaf, per_leaf):
            shutil.copy(path, target)
    return destination


def photos_beyond_small_catalogue(count, per_leaf_held):
    """`count` Grocery train photos of the small catalogue's leaves that a catalogue copied with
    `per_leaf_held` photos a leaf does not hold (val has only 17 of them), as (name, bytes, type)
    uploads, the leaves taking turns in blocks."""
    per_leaf = -(-count // len(SMALL_CATALOGUE_LEAVES))
    paths = [path for leaf in SMALL_CATALOGUE_LEAVES
             for path in grocery_images("train", leaf, per_leaf_held + per_leaf)[per_leaf_held:]]
    if len(paths) < count:
        raise ValueError(f"Grocery train holds only {len(paths)} photos of the small catalogue's leaves beyond "
                         f"the {per_leaf_held} a leaf it keeps, taking up to {per_leaf} of each: ask for fewer.")
    return [(os.path.basename(path), Path(path).read_bytes(), "image/jpeg") for path in paths[:count]]


def grocery_upload(leaf, index=0, name=None):
    """A real held-out (val) Grocery photo of `leaf`, as an upload."""
    path = grocery_images("val", leaf, index + 1)[index]
    with open(path, "rb") as handle:
        return SimpleUploadedFile(name or os.path.basename(path), handle.read(), content_type="image/jpeg")


def near_duplicate(leaf, index=0):
    """JPEG bytes of a held-out (val) Grocery photo mirrored, shrunk and saved again: what a
    seller's second listing of the same product looks like."""
    with Image.open(grocery_images("val", leaf, index + 1)[index]) as image:
        copy = ImageOps.mirror(image.convert("RGB"))
    copy = copy.resize((copy.width * 9 // 10, copy.height * 9 // 10))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def encoded_upload(name, image=None, fmt="PNG", **options):
    buffer = io.BytesIO()
    (image or Image.new("RGB", (64, 48), (180, 40, 40))).save(buffer, fmt, **options)
    return SimpleUploadedFile(name, buffer.getvalue())


def raw_upload(name, data):
    return SimpleUploadedFile(name, data)


def png_bytes(colour=(200, 60, 40), size=(24, 24)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def zip_upload(members, compression=zipfile.ZIP_STORED):
    """A zip archive of (name, bytes) members, as the bulk API's `archive`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            # A fixed time: the same members make the same bytes (an Idempotency-Key retry is one request).
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compression)
    return SimpleUploadedFile("photos.zip", buffer.getvalue(), content_type="application/zip")


def csv_manifest(*lines):
    """A bulk CSV manifest with the columns reference, title, photos."""
    return SimpleUploadedFile("manifest.csv", "\n".join(("reference,title,photos",) + lines).encode())


def iconic_folder():
    """The Grocery catalogue packshots (one product on white per leaf), in the dataset's tree."""
    folder = os.path.join(GROCERY, "iconic-images-and-descriptions")
    if not os.path.isdir(folder):
        pytest.skip(f"the Grocery Store dataset is not at {GROCERY}")
    return folder


def iconic_packshot(leaf):
    """The catalogue packshot of a Grocery leaf, as a PIL image."""
    folder = os.path.join(iconic_folder(), leaf)
    name = next(n for n in sorted(os.listdir(folder)) if n.lower().endswith(".jpg"))
    return Image.open(os.path.join(folder, name)).convert("RGB")


def two_product_photo(left_leaf, right_leaf, size=(720, 420)):
    """Two products side by side on a plain backdrop, as a seller might photograph them."""
    from vision.composites import cut_out

    photo = Image.new("RGB", size, (196, 188, 176))
    for leaf, centre_x in ((left_leaf, size[0] // 4), (right_leaf, 3 * size[0] // 4)):
        product = cut_out(iconic_packshot(leaf))
        product.thumbnail((size[0] * 2 // 5, size[1] * 4 // 5))
        photo.paste(product, (centre_x - product.width // 2, (size[1] - product.height) // 2), product)
    return photo


CARTON_LEAVES = ("Packages/Milk/Arla-Standard-Milk", "Packages/Juice/Bravo-Apple-Juice")


def copy_cartons_catalogue(destination, per_leaf=8):
    """A catalogue of the two cartons' leaves (Grocery train photos and each leaf's packshot) and bananas."""
    for leaf in (*CARTON_LEAVES, "Fruit/Banana"):
        target = destination / leaf
        target.mkdir(parents=True)
        for path in grocery_images("train", leaf, per_leaf):
            shutil.copy(path, target)
        iconic_packshot(leaf).save(target / "packshot.jpg")
    return destination


def touching_cartons_photo(size=(720, 480)):
    """Two cartons side by side and touching, on a plain backdrop: one blob of foreground, two products."""
    from vision.composites import cut_out

    photo = Image.new("RGB", size, (205, 200, 190))
    cartons = [cut_out(iconic_packshot(leaf)) for leaf in CARTON_LEAVES]
    cartons = [carton.resize((round(carton.width * size[1] * 0.8 / carton.height), round(size[1] * 0.8)))
               for carton in cartons]
    left = (size[0] - sum(carton.width for carton in cartons)) // 2
    for carton in cartons:
        photo.paste(carton, (left, (size[1] - carton.height) // 2), carton)
        left += carton.width - 12  # the second carton's edge over the first's: no gap between them
    return photo


def with_heatmap(item):
    """The item, with a stored heatmap file."""
    item.heatmap.save("heatmap.png", ContentFile(b"png"), save=True)
    return item


def exists(field_file):
    return field_file.storage.exists(field_file.name)
