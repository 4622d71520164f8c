"""Checking an uploaded photo before anything is stored: what the web process may use of vision.

Only vision.images is imported here (Pillow and NumPy): the web process never loads torch.
"""

import io
import os
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError
from PIL import Image, ImageOps

from vision.images import InvalidImage, decode_image, load_image

from .photo_metadata import UNREADABLE, without_location

ALLOWED_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")
# Narrower photos hold no product to find: items, crops and heatmaps need some pixels each way.
MIN_SIDE_PIXELS = 16
MAX_ASPECT_RATIO = 20
_EXTENSION_OF_FORMAT = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
# The longest side of the images pages show: the photo on its listing page (sharp on a wide
# screen), and a thumbnail in lists and the review queue.
DISPLAY_SIDES = {"display": 1600, "thumbnail": 360}


@dataclass(frozen=True)
class CheckedPhoto:
    upload: object  # what is stored: the upload with no location in it (catalog.photo_metadata), rewound
    extension: str  # of its real format, to store it under
    width: int  # upright, after EXIF orientation
    height: int


def check_photo(upload, sent_bytes=None):
    """Validate an uploaded file and return it as a CheckedPhoto. `sent_bytes`: what the file
    took in the request, when that is less than its size (a compressed archive member).

    Raises InvalidImage with a message for the seller. The file is left rewound; what is stored is
    a copy with the place the photo was taken removed (catalog.photo_metadata.without_location).
    """
    extension = os.path.splitext(upload.name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(ALLOWED_EXTENSIONS)
        raise InvalidImage(f"Files ending in '{extension or '(nothing)'}' are not accepted; use {allowed}.")
    if upload.size == 0:
        raise InvalidImage("The file is empty.")
    if upload.size > settings.CATALOG_MAX_PHOTO_BYTES:
        limit = settings.CATALOG_MAX_PHOTO_BYTES / 1024 / 1024
        raise InvalidImage(f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {limit:.0f} MB.")
    upload.seek(0)
    try:
        data = upload.read()
        image = decode_image(data, max_pixels=settings.CATALOG_MAX_PHOTO_PIXELS, sent_bytes=sent_bytes or upload.size)
    finally:
        upload.seek(0)
    width, height = _upright_size(image)
    _check_shape(width, height)
    stored, _ = without_location(data, image)
    # A HEIC whose location had to go is stored as a JPEG (catalog.photo_metadata).
    stored_format = image.format if stored is data else Image.open(io.BytesIO(stored)).format
    return CheckedPhoto(_spooled(stored, upload.name), _EXTENSION_OF_FORMAT[stored_format], width, height)


def _upright_size(image):
    try:
        return ImageOps.exif_transpose(image).size
    except UNREADABLE as error:  # an EXIF Pillow cannot read
        raise InvalidImage("The photo's metadata (its orientation) cannot be read; export it as a plain JPEG and "
                           "send it again.") from error


def _spooled(data, name):
    """`data` as a File named `name`, on disk past Django's upload memory size (a request holds
    up to CATALOG_MAX_PHOTOS_PER_LISTING of them until they are stored), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    spool.write(data)
    spool.seek(0)
    return File(spool, name=name)


NO_PHOTO = "Choose at least one photo."


def too_many_photos(limit, chosen):
    return f"A listing takes at most {limit} photos; you chose {chosen}."


def check_photos(uploads):
    """(the checked photos, the problems): every bad file named at once, not just the first. A
    problem is {"file": its name, empty for the photos as a whole, "reason": ...}: the API returns
    them as errors.photos, and the form shows each as "file: reason", in the same words."""
    limit = settings.CATALOG_MAX_PHOTOS_PER_LISTING
    if not uploads:
        return [], [{"file": "", "reason": NO_PHOTO}]
    if len(uploads) > limit:
        return [], [{"file": "", "reason": too_many_photos(limit, len(uploads))}]
    checked, problems = [], []
    for upload in uploads:
        try:
            checked.append(check_photo(upload))
        except InvalidImage as error:
            problems.append({"file": upload.name, "reason": str(error)})
    return checked, problems


def problem_text(problem):
    return f"{problem['file']}: {problem['reason']}" if problem["file"] else problem["reason"]


def _check_shape(width, height):
    if min(width, height) < MIN_SIDE_PIXELS:
        raise InvalidImage(f"The photo is {width}×{height} pixels; a photo needs at least {MIN_SIDE_PIXELS} "
                           f"pixels each way.")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise InvalidImage(f"The photo is {width}×{height} pixels, more than {MAX_ASPECT_RATIO} times as long as "
                           f"it is wide; send a photo of the product, not a strip.")


def store_display_images(photo, image=None):
    """Make and store the photo's display image and thumbnail: JPEGs upright and no larger than
    DISPLAY_SIDES, what a browser shows whatever the original's format (an iPhone's HEIC is not
    shown by browsers). The worker passes the photo it has decoded; a page or the API asking for
    a photo no worker has reached yet has them made from the stored file."""
    if image is None:
        with photo.image.open("rb") as original:
            image = load_image(original, max_pixels=settings.CATALOG_MAX_PHOTO_PIXELS)
    for name, side in DISPLAY_SIDES.items():
        resized = image.copy()
        resized.thumbnail((side, side))
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=85, optimize=True)
        getattr(photo, name).save(f"{name}.jpg", ContentFile(buffer.getvalue()), save=False)
    try:
        photo.save(update_fields=list(DISPLAY_SIDES))
    except DatabaseError:  # the photo was deleted meanwhile, or the database failed: no row names them
        for name in DISPLAY_SIDES:
            getattr(photo, name).delete(save=False)
        raise
