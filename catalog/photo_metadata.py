"""Taking the place a photo was taken out of it before it is stored.

Phones write where a photo was taken into it: EXIF's GPS tags, XMP (exif:GPS*, photoshop:City...),
IPTC's location fields, a maker's own notes. Nobody needs that to categorize a product, and a seller
photographing at home would hand staff their address, so no stored original carries it:

- JPEG, PNG and WebP are rewritten by libexiv2 (the `exiv2` package), metadata only: the pixels stay
  byte for byte. Everything but the EXIF orientation goes (the rest of EXIF, XMP, IPTC, comments):
  location hides in too many places (maker notes, XMP namespaces, IPTC) to pick it out safely, and
  nothing else of it is used. The ICC colour profile stays, so the photo looks the same.
- The result is then read again, with Pillow, and must hold nothing else that could carry a
  location: no XMP or comment, no JPEG segment or PNG/WebP chunk but those a photo needs to be
  shown, nothing after the image (a motion photo's video). Where it does (a C2PA manifest, a PNG
  text chunk, a JPEG with trailing data), or where libexiv2 cannot read the file, the photo is
  re-encoded from its pixels with no metadata but the orientation and the ICC profile: losslessly
  for PNG and lossless WebP, at the JPEG's own quantization tables and subsampling for a JPEG.
- HEIC/HEIF and MPO (a JPEG followed by more images, as phones write portraits) cannot be rewritten
  so: libexiv2 does not write HEIF ("Writing to BMFF images is not supported"), and a rewrite of
  an MPO's first image breaks the offsets of the images after it. Re-encoding costs quality, so
  they are kept as uploaded when nothing in them may hold a location (their other metadata
  stays), and otherwise re-encoded: a HEIC as a JPEG at quality 95, decoded upright (its rotation
  applied) with the ICC profile and no other metadata (encoding HEIC again took 7 to 29 s a
  12-megapixel photo here, in the upload's request); an MPO as its first image alone, a plain JPEG
  (its own quantization tables, orientation and ICC kept).

A photo is never stored with a location because removing it failed: what still holds one after
all this, or whose metadata cannot be read or written at all (a crafted EXIF), is refused
(LocationNotRemoved, an InvalidImage).
"""

import io
import logging
import re
import struct

import exiv2
from PIL import ExifTags, Image, JpegImagePlugin

from vision.images import InvalidImage

log = logging.getLogger(__name__)

# libexiv2's XMP parser must be set up once, before threads use it (the embedded server's are).
exiv2.XmpParser.initialize()

ORIENTATION_TAG = ExifTags.Base.Orientation
ORIENTATION_KEY = "Exif.Image.Orientation"
GPS_IFD = ExifTags.IFD.GPSInfo
# What Pillow and its plugins raise on metadata they cannot read or write (a crafted EXIF, say).
UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, TypeError, struct.error)
# What a JPEG needs besides its image data: JFIF, EXIF (orientation only, checked apart), the ICC
# profile, Adobe's colour transform.
_JPEG_SEGMENTS = {"APP0": (b"JFIF\0", b"JFXX\0"), "APP1": (b"Exif\0\0",), "APP2": (b"ICC_PROFILE\0",),
                  "APP14": (b"Adobe",)}
_PNG_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD",
               b"pHYs", b"hIST", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT", b"eXIf",
               # libexiv2 writes the EXIF it keeps (the orientation) as a text chunk of this name
               b"zTXt", b"tEXt", b"iTXt"}
_PNG_TEXT_KEPT = {"Raw profile type exif"}
_WEBP_CHUNKS = {b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF"}
# Words that name a place in a metadata key or an XMP packet (GPSLatitude, photoshop:City,
# Iptc4xmpExt:LocationCreated, Iptc.Application2.SubLocation, a maker note's Landmark...).
_PLACE = re.compile(rb"gps|locat|city|country|province|state|landmark|geo", re.IGNORECASE)
HEIC_AS_JPEG_QUALITY = 95


class LocationNotRemoved(InvalidImage):
    """The photo could not be stored without its location."""


NOT_REMOVED = ("The place this photo was taken could not be removed from it, so it was not stored; export it "
               "as a plain JPEG and send it again.")


def without_location(data, image):
    """(`data`, the photo's bytes, with no location in them; how: "rewritten", "re-encoded" or
    "as uploaded"). `image` is the photo as decoded from them (its `format`). Raises
    LocationNotRemoved rather than give back bytes that may still hold one, or fail otherwise."""
    try:
        if image.format in ("JPEG", "PNG", "WEBP"):
            rewritten = _rewritten(data)
            if rewritten is not None and _holds_only_what_is_needed(rewritten, image.format):
                return rewritten, "rewritten"
            stored, how = _reencoded(data, image.format), "re-encoded"
        elif not may_hold_location(data):
            return data, "as uploaded"
        else:
            stored, how = _reencoded(data, image.format), "re-encoded"
    except UNREADABLE as error:
        log.info("an upload could not be stored without its metadata (%r): refused", error)
        raise LocationNotRemoved(NOT_REMOVED) from error
    if may_hold_location(stored):
        raise LocationNotRemoved(NOT_REMOVED)
    return stored, how


def _rewritten(data):
    """The file with no metadata but its orientation and ICC profile, by libexiv2; None when
    libexiv2 cannot read or write it."""
    try:
        image = exiv2.ImageFactory.open(data)
        image.readMetadata()
        exif = image.exifData()
        for key in {datum.key() for datum in exif} - {ORIENTATION_KEY}:
            exif.erase(exif.findKey(exiv2.ExifKey(key)))
        # Not clearMetadata(): it drops the ICC profile too.
        image.clearIptcData()
        image.clearXmpData()
        image.clearXmpPacket()
        image.clearComment()
        image.writeMetadata()
        return bytes(image.io().data())
    except exiv2.Exiv2Error as error:
        log.info("libexiv2 could not rewrite an upload's metadata (%s): it is re-encoded", error)
        return None


def _holds_only_what_is_needed(data, image_format):
    """Whether `data` (a rewrite) holds no metadata but the orientation and the ICC profile."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != image_format:  # a JPEG with more images after it reads as MPO
            return False
        exif = image.getexif()
        if set(exif) - {ORIENTATION_TAG} or exif.get_ifd(GPS_IFD) or image.info.get("xmp") or image.info.get("comment"):
            return False
        if image_format == "JPEG":
            return (all(data_.startswith(_JPEG_SEGMENTS.get(marker, (b"\0no",))) for marker, data_ in image.applist)
                    and not data[_jpeg_end(data):].strip(b"\0\r\n "))
        if image_format == "PNG":
            return set(getattr(image, "text", {})) <= _PNG_TEXT_KEPT and _png_chunks(data) <= _PNG_CHUNKS
        return _webp_chunks(data) <= _WEBP_CHUNKS
    except UNREADABLE:
        return False


def _jpeg_end(data):
    """Where a JPEG's first image ends: past the EOI that follows its first scan. Another image
    appended after it (a depth map, a second photo: it may hold a location of its own) also ends in
    an EOI, so the file's last bytes do not tell. The segments before the scan are walked by their
    lengths; in the scans an 0xFF byte of data is always followed by 0x00 or a restart marker, so the
    first EOI there is the image's. A segment between progressive scans holding the EOI's two bytes
    makes the image seem to end early: the file is then re-encoded, never kept with a tail."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker, (length,) = data[position + 1], struct.unpack(">H", data[position + 2:position + 4])
        position += 2 + length
        if marker == 0xDA:  # SOS: the entropy-coded data follows its header
            break
    end = data.find(b"\xff\xd9", position)
    return len(data) if end < 0 else end + 2


def _png_chunks(data):
    """The types of a PNG's chunks (read only, to check them); anything after IEND counts as "tail"."""
    types, position = set(), 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        types.add(kind)
        position += 12 + length
        if kind == b"IEND":
            break
    if data[position:].strip(b"\0"):
        types.add(b"tail")
    return types


def _webp_chunks(data):
    """The FourCCs of a WebP's RIFF chunks (read only); data past the RIFF size counts as "tail"."""
    (riff_size,) = struct.unpack("<I", data[4:8])
    end, types, position = min(len(data), 8 + riff_size), set(), 12
    while position + 8 <= end:
        kind, size = struct.unpack("<4sI", data[position:position + 8])
        types.add(kind)
        position += 8 + size + (size & 1)
    if data[8 + riff_size:].strip(b"\0"):
        types.add(b"tail")
    return types


def may_hold_location(data):
    """Whether anything in the file may say where it was taken, by Pillow (every image of it) and
    libexiv2; True when either cannot tell."""
    try:
        image = Image.open(io.BytesIO(data))
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            if image.getexif().get_ifd(GPS_IFD) or _PLACE.search(_as_bytes(image.info.get("xmp"))):
                return True
            if any(kind != "exif" for kind in (block.get("type") for block in image.info.get("metadata") or [])):
                return True  # another HEIF metadata block (IPTC, ...): not read here, so not kept
            if image.format in ("JPEG", "MPO") and not all(
                    segment.startswith(_JPEG_SEGMENTS.get(marker, ()) + (b"MPF\0", b"http://ns.adobe.com/xap/1.0/\0"))
                    for marker, segment in image.applist):
                return True
        metadata = exiv2.ImageFactory.open(data)
        metadata.readMetadata()
        keys = [datum.key() for datum in metadata.exifData()] + [datum.key() for datum in metadata.xmpData()]
        return bool(len(metadata.iptcData())) or any(_PLACE.search(key.encode()) for key in keys)
    except (*UNREADABLE, exiv2.Exiv2Error) as error:
        log.info("could not tell whether an upload holds its location (%s): taken as holding it", error)
        return True


def _as_bytes(value):
    return value.encode() if isinstance(value, str) else value or b""


def _reencoded(data, image_format):
    """The photo's (first) image encoded again with no metadata but its orientation (JPEG, PNG,
    WebP: the pixels are left as stored, the tag turns them; HEIC is decoded upright) and ICC profile."""
    source = Image.open(io.BytesIO(data))
    source.load()
    clean = source.copy()
    clean.info = {key: source.info[key] for key in ("icc_profile", "transparency") if source.info.get(key)}
    exif = Image.Exif()
    orientation = source.getexif().get(ORIENTATION_TAG)
    # pillow-heif has turned a HEIC's pixels already; a value that is no orientation is dropped.
    if orientation in range(1, 9) and image_format != "HEIF":
        exif[ORIENTATION_TAG] = orientation
    options = {"exif": exif.tobytes() if exif else b"", "icc_profile": clean.info.get("icc_profile")}
    if image_format in ("JPEG", "MPO"):
        # The JPEG's own quantization tables and subsampling (Pillow's quality="keep", which it
        # refuses for an MPO): the least that encoding it again can change.
        fmt = "JPEG"
        options.update(qtables=source.quantization, subsampling=JpegImagePlugin.get_sampling(source))
    elif image_format == "PNG":
        fmt = "PNG"
    elif image_format == "WEBP":
        fmt, options = "WEBP", {**options, "lossless": b"VP8L" in _webp_chunks(data), "quality": 100}
    else:
        # A HEIC becomes a JPEG: encoding HEIC again took 7 to 29 s a 12-megapixel photo on a 2-core
        # machine (in the upload's request), a JPEG a fraction of a second; browsers show JPEG too.
        fmt, options = "JPEG", {"quality": HEIC_AS_JPEG_QUALITY, "subsampling": "4:4:4",
                                "icc_profile": options["icc_profile"]}
    buffer = io.BytesIO()
    clean.save(buffer, fmt, **options)
    return buffer.getvalue()
