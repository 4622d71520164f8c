"""Loading seller photos into RGB images, with one clear error for anything unusable."""

import io
import os
import warnings
from operator import attrgetter

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:
    import pillow_heif
except ImportError:  # a machine that only trains, on WebP copies (the GPU pack), may lack it
    pass
else:
    pillow_heif.register_heif_opener()

# MPO is what many phones write for a portrait photo: a JPEG followed by a depth image; Pillow
# reads the JPEG, which is the photo.
SUPPORTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC/HEIF"}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")

# 50 megapixels: more than any phone camera, far less than a decompression bomb needs.
DEFAULT_MAX_PIXELS = 50_000_000
# A phone's JPEG decodes to about 3 pixels a byte, a plain packshot's PNG to a few hundred; a file
# that claims more than this many is a decompression bomb: a few kilobytes that cost a worker
# seconds of decoding and categorizing each.
MAX_PIXELS_PER_BYTE = 1000

_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


class InvalidImage(ValueError):
    """The input is not a usable photo; the message says why, in words a seller understands."""


def load_image(source, max_pixels=DEFAULT_MAX_PIXELS):
    """Open a path, bytes or binary file as an upright RGB image, or raise InvalidImage."""
    return to_rgb(ImageOps.exif_transpose(decode_image(source, max_pixels)))


def decode_image(source, max_pixels=DEFAULT_MAX_PIXELS, sent_bytes=None):
    """The fully decoded image as stored (its `format` and mode kept), or raise InvalidImage.
    Its size is checked from the header, before decoding: against `max_pixels` and, for an upload,
    against `sent_bytes`, the bytes it took in the request (an archive member's compressed size)."""
    data = _read_bytes(source)
    if not data:
        raise InvalidImage("The file is empty.")
    image = _open(data)
    _check_size(image, max_pixels)
    if sent_bytes is not None:
        _check_density(image, sent_bytes)
    _decode(image)
    return image


def is_image_filename(name):
    return name.lower().endswith(IMAGE_EXTENSIONS) and not os.path.basename(name).startswith(".")


def _read_bytes(source):
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return handle.read()
    return source.read()


def _open(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage("The image has too many pixels to be processed safely.") from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise InvalidImage("The file is not an image (or its format is not recognised).") from error
    if image.format not in SUPPORTED_FORMATS:
        names = ", ".join(SUPPORTED_FORMATS.values())
        raise InvalidImage(f"{image.format} images are not supported; use {names}.")
    return image


def _check_size(image, max_pixels):
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("The image has no pixels.")
    if width * height > max_pixels:
        raise InvalidImage(
            f"The image is too large ({width}×{height} pixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels."
        )


def _check_density(image, sent_bytes):
    width, height = image.size
    if width * height > MAX_PIXELS_PER_BYTE * sent_bytes:
        raise InvalidImage(
            f"The image claims {width}×{height} pixels from only {_in_words(sent_bytes)}, more than "
            f"{MAX_PIXELS_PER_BYTE:,} pixels a byte (a phone photo has about 3): it is refused as a "
            "decompression bomb. Send the photo as the camera saved it."
        )


def _in_words(size):
    return f"{size:,} bytes" if size < 10_000 else f"{size / 1024:,.0f} KB"


def _decode(image):
    # Pillow decodes lazily: corrupt or truncated data only fails here.
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidImage("The image is corrupt or truncated and cannot be read.") from error


def to_rgb(image):
    """Convert any Pillow mode to RGB; transparency is flattened onto white, like a packshot."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_rgb(image)
    if image.mode == "F":
        return _float_to_rgb(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _sixteen_bit_to_rgb(image):
    values = np.asarray(image, dtype=np.float64)
    scaled = np.clip(values / 257.0, 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L").convert("RGB")


def _float_to_rgb(image):
    values = np.asarray(image, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    scaled = ((values - low) / span * 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L").convert("RGB")


def load_in_batches(items, batch_size, path_of=attrgetter("path"), progress=None, read=None):
    """Yield (readable items, their RGB images, [(path, reason)] for the unreadable), per batch.
    An item's image is read from its path, or from what read(item) returns (bytes or a binary
    file: a stored file has no path where the storage is a bucket).

    Every caller that embeds many files goes through here, so an unreadable file is skipped
    and reported the same way everywhere.
    """
    read = read or path_of
    for start in range(0, len(items), batch_size):
        readable, images, unreadable = [], [], []
        for item in items[start:start + batch_size]:
            try:
                images.append(load_image(read(item)))
                readable.append(item)
            except (InvalidImage, OSError) as error:
                unreadable.append((path_of(item), str(error)))
            if progress is not None:
                progress.update(1)
        yield readable, images, unreadable
