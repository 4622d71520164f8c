"""A stored original carries no location (catalog.photo_metadata): real photos with GPS in EXIF, XMP
and IPTC, uploaded by the form, the API and a bulk archive, read back as stored."""

import io
import os
import struct

import exiv2
import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from catalog.models import Listing, Photo
from catalog.photos import store_display_images
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, raw_upload, zip_upload

pytestmark = pytest.mark.django_db

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
       'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
       'exif:GPSLatitude="59,20.1234N" exif:GPSLongitude="18,3.5678E" photoshop:City="Stockholm"/></rdf:RDF>'
       '</x:xmpmeta><?xpacket end="w"?>')
ROTATED = 6  # EXIF orientation: the stored 96×64 pixels are shown 64×96


def _gps_exif(orientation=ROTATED):
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Phone maker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (59.0, 20.0, 7.4), 3: "E", 4: (18.0, 3.0, 34.1)})
    return exif


def _pixels():
    bands = (Image.linear_gradient("L").resize((96, 64)), Image.effect_noise((96, 64), 40).convert("L"),
             Image.radial_gradient("L").resize((96, 64)))
    return Image.merge("RGB", bands)


def photo_with_location(fmt):
    """A photo of `fmt` whose metadata says where it was taken, as a phone writes it (EXIF GPS,
    XMP exif:GPS* and photoshop:City, IPTC City on a JPEG), turned by its orientation, with an ICC profile."""
    buffer = io.BytesIO()
    options = {"exif": _gps_exif(), "icc_profile": SRGB}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP)
        options["pnginfo"] = info
    else:
        options["xmp"] = XMP.encode()
    _pixels().save(buffer, fmt, **options)
    data = buffer.getvalue()
    if fmt == "JPEG":  # IPTC's location fields, written by libexiv2 itself
        image = exiv2.ImageFactory.open(data)
        image.readMetadata()
        image.iptcData()["Iptc.Application2.City"] = "Stockholm"
        image.iptcData()["Iptc.Application2.CountryName"] = "Sweden"
        image.writeMetadata()
        data = bytes(image.io().data())
    assert location_in(data)
    return data


def location_in(data):
    """The location metadata libexiv2 and Pillow find in `data`."""
    image = exiv2.ImageFactory.open(data)
    image.readMetadata()
    found = [d.key() for d in image.exifData() if "GPS" in d.key()]
    found += [d.key() for d in image.xmpData()] + [d.key() for d in image.iptcData()]
    opened = Image.open(io.BytesIO(data))
    found += [f"GPS IFD {tag}" for tag in opened.getexif().get_ifd(0x8825)]
    found += ["Pillow xmp"] * bool(opened.info.get("xmp")) + [k for k in getattr(opened, "text", {}) if "xmp" in k]
    return found


def stored(photo):
    with photo.image.open("rb") as handle:
        return handle.read()


EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _assert_same_photo_without_location(sent, kept, photo):
    assert location_in(kept) == []
    assert b"Stockholm" not in kept and b"Phone maker" not in kept  # nothing of it left in the bytes
    before, after = Image.open(io.BytesIO(sent)), Image.open(io.BytesIO(kept))
    assert after.format == before.format
    assert dict(after.getexif()) == {0x0112: ROTATED}  # only the orientation stays
    assert ImageOps.exif_transpose(after).size == (64, 96) == (photo.width, photo.height)
    assert after.info.get("icc_profile") == SRGB
    assert after.tobytes() == before.tobytes()  # no re-encoding: the very same pixels
    if before.format == "JPEG":  # the compressed image data, byte for byte
        assert kept.endswith(sent[sent.index(b"\xff\xda"):])


@pytest.mark.parametrize("fmt", EXTENSIONS)
def test_the_form_stores_the_photo_without_its_location_pixels_and_orientation_kept(owner_client, fmt):
    sent = photo_with_location(fmt)
    response = owner_client.post("/listings/new/", {"title": "Mug", "photos": [
        raw_upload(f"IMG_0001.{EXTENSIONS[fmt]}", sent)]})
    assert response.status_code == 302
    photo = Photo.objects.get()
    _assert_same_photo_without_location(sent, stored(photo), photo)
    assert photo.original_name == f"IMG_0001.{EXTENSIONS[fmt]}"


@pytest.mark.parametrize("fmt", EXTENSIONS)
def test_the_api_stores_the_photo_without_its_location(api, fmt):
    sent = photo_with_location(fmt)
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload(f"a.{EXTENSIONS[fmt]}", sent)]})
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    _assert_same_photo_without_location(sent, stored(photo), photo)
    assert api.get(response.json()["photos"][0]["original_url"]).status_code == 200


def test_a_bulk_archive_stores_its_photos_without_their_location(api):
    sent = photo_with_location("JPEG")
    response, job = send_bulk(api, manifest=csv_manifest("SKU-1,Red mug,shots/a.jpg"),
                              archive=zip_upload([("shots/a.jpg", sent)]))
    assert response.status_code == 202 and job["rejected"] == [] and len(job["accepted"]) == 1
    photo = Photo.objects.get()
    _assert_same_photo_without_location(sent, stored(photo), photo)


def test_an_iphone_heic_with_a_location_is_stored_re_encoded_without_it(api):
    """libexiv2 cannot write HEIF: the HEIC is encoded again, as a JPEG (encoding HEIC took seconds a
    photo), upright, with its ICC profile."""
    buffer = io.BytesIO()
    _pixels().save(buffer, "HEIF", exif=_gps_exif(orientation=1), xmp=XMP.encode(), icc_profile=SRGB, quality=90)
    sent = buffer.getvalue()
    assert location_in(sent)
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("IMG_0002.HEIC", sent)]})
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    kept = stored(photo)
    assert location_in(kept) == [] and b"Stockholm" not in kept
    before, after = Image.open(io.BytesIO(sent)), Image.open(io.BytesIO(kept))
    assert after.format == "JPEG" and after.size == before.size == (photo.width, photo.height) == (96, 64)
    assert photo.image.name.endswith(".jpg")
    assert after.info.get("icc_profile") == SRGB
    difference = sum(abs(a - b) for a, b in zip(after.tobytes(), before.tobytes())) / len(before.tobytes())
    assert difference < 3  # quality 95: the same photo to the eye


def test_a_heic_without_a_location_is_kept_as_uploaded(api):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    _pixels().save(buffer, "HEIF", exif=exif, icc_profile=SRGB)
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("b.heic", buffer.getvalue())]})
    assert response.status_code == 201
    assert stored(Photo.objects.get()) == buffer.getvalue()


def test_a_jpeg_with_data_after_its_image_is_stored_without_it(owner_client):
    """A motion photo's video (with its own location) after the JPEG: libexiv2 keeps what follows
    the image, so the photo is encoded again with its own tables, orientation and ICC profile."""
    sent = photo_with_location("JPEG") + b"ftypmp42...\xa9xyz+59.3350+018.0593/"
    response = owner_client.post("/listings/new/", {"title": "Mug", "photos": [raw_upload("motion.jpg", sent)]})
    assert response.status_code == 302
    photo = Photo.objects.get()
    kept = stored(photo)
    assert location_in(kept) == [] and b"+59.3350" not in kept
    after = Image.open(io.BytesIO(kept))
    assert after.format == "JPEG" and dict(after.getexif()) == {0x0112: ROTATED}
    assert after.info.get("icc_profile") == SRGB
    assert ImageOps.exif_transpose(after).size == (64, 96) == (photo.width, photo.height)


def test_a_second_image_after_a_jpeg_goes_with_its_location(owner_client):
    """A camera's depth map or second photo after the first image ends in an EOI too: the file's last
    bytes did not tell, and the second image was stored with its location."""
    plain = io.BytesIO()
    _pixels().save(plain, "JPEG", icc_profile=SRGB)
    sent = plain.getvalue() + photo_with_location("JPEG")
    assert b"Stockholm" in sent
    response = owner_client.post("/listings/new/", {"title": "Mug", "photos": [raw_upload("two.jpg", sent)]})
    assert response.status_code == 302
    kept = stored(Photo.objects.get())
    assert b"Stockholm" not in kept and kept.count(b"\xff\xd8\xff") == 1 and location_in(kept) == []


def test_an_orientation_that_is_no_orientation_is_dropped_not_a_server_error(api):
    """A crafted orientation (a ratio, not a SHORT) on a photo that must be encoded again: the
    encoder's EXIF writer failed with a 500 (and ended a bulk job)."""
    # A TIFF header, one IFD of one entry: the orientation as a RATIONAL (type 5), 5/2, stored after it.
    ratio = (b"II*\0" + struct.pack("<IHHHIII", 8, 1, 0x0112, 5, 1, 26, 0) + struct.pack("<II", 5, 2))
    buffer = io.BytesIO()
    _pixels().save(buffer, "JPEG", exif=b"Exif\0\0" + ratio)
    assert Image.open(io.BytesIO(buffer.getvalue())).getexif()[0x0112] == 2.5
    sent = buffer.getvalue() + b"trailing bytes: encoded again"
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("odd.jpg", sent)]})
    assert response.status_code == 201, response.content
    kept = Image.open(io.BytesIO(stored(Photo.objects.get())))
    assert location_in(stored(Photo.objects.get())) == [] and 0x0112 not in kept.getexif()


def test_a_photo_whose_exif_cannot_be_read_is_refused_in_words(api):
    """Its orientation could not be read: a 500, now a refusal that says what to do."""
    with open(os.path.join(os.path.dirname(__file__), "data", "exif_unreadable.heic"), "rb") as handle:
        sent = handle.read()
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("odd.heic", sent)]})
    assert response.status_code == 400 and not Photo.objects.exists()
    assert "metadata (its orientation) cannot be read" in response.content.decode()


def test_a_bad_photo_with_a_location_is_refused_and_nothing_is_stored(api, settings):
    sent = photo_with_location("JPEG")
    cut = sent[:len(sent) - 2000]
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("cut.jpg", cut)]})
    assert response.status_code == 400
    assert "corrupt or truncated" in response.json()["errors"]["photos"][0]["reason"]
    assert not Listing.objects.exists() and not Photo.objects.exists()
    assert not (settings.MEDIA_ROOT / "photos").exists() or not any((settings.MEDIA_ROOT / "photos").rglob("*.*"))


def test_display_images_carry_no_metadata(api):
    api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload("a.jpg", photo_with_location("JPEG"))]})
    photo = Photo.objects.get()
    store_display_images(photo)
    for name in ("display", "thumbnail"):
        with getattr(photo, name).open("rb") as handle:
            data = handle.read()
        shown = Image.open(io.BytesIO(data))
        assert shown.format == "JPEG" and not shown.getexif() and not shown.info.get("xmp") and not location_in(data)
        assert shown.width < shown.height  # upright
