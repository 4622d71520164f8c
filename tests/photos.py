"""Test photos: real Grocery Store photos from ../shared, and uploads built from images."""

import io
import os
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GROCERY = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "grocery-store", "dataset")

# Three leaves at two depths, visually distinct: enough for the real backbone to separate.
SMALL_CATALOGUE_LEAVES = ("Fruit/Banana", "Fruit/Apple/Granny-Smith", "Vegetables/Carrots")


def grocery_images(split, leaf, count):
    folder = os.path.join(GROCERY, split, leaf)
    if not os.path.isdir(folder):
        pytest.skip(f"the Grocery Store dataset is not at {GROCERY}")
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))[:count]]


def copy_small_catalogue(destination, split, per_leaf):
    for leaf in SMALL_CATALOGUE_LEAVES:
        target = destination / leaf
        target.mkdir(parents=True)
        for path in grocery_images(split, leaf, per_leaf):
            shutil.copy(path, target)
    return destination


def grocery_upload(leaf, index=0, name=None):
    """A real held-out (val) Grocery photo of `leaf`, as an upload."""
    path = grocery_images("val", leaf, index + 1)[index]
    with open(path, "rb") as handle:
        return SimpleUploadedFile(name or os.path.basename(path), handle.read(), content_type="image/jpeg")


def encoded_upload(name, image=None, fmt="PNG", **options):
    buffer = io.BytesIO()
    (image or Image.new("RGB", (64, 48), (180, 40, 40))).save(buffer, fmt, **options)
    return SimpleUploadedFile(name, buffer.getvalue())


def raw_upload(name, data):
    return SimpleUploadedFile(name, data)
