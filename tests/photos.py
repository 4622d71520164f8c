"""Uploaded-file builders for the web tests."""

import io
import os

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import grocery_images


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
