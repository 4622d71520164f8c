"""Every hostile input met so far, sent through the API as an attacker would, one request each:
no answer is a server error, a refused request leaves nothing in the database or on disk, and in a
bulk request only the hostile row is rejected (with its reason) while the good row is made.
Photo formats that phones really write (MPO, HEIC, CMYK, 16-bit) are accepted."""

import io
import json
import os
import stat
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import BulkJob, Listing, Photo
from tests.api.test_bulk_jobs import with_unreadable_member
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, png_bytes, raw_upload, zip_upload

pytestmark = pytest.mark.django_db


def _encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _photo():
    return Image.effect_noise((96, 72), 40).convert("RGB")


def _mpo():
    return _encoded(_photo(), "MPO", save_all=True, append_images=[_photo()])


ACCEPTED_PHOTOS = {
    "mpo.jpg": _mpo,
    "heic.heic": lambda: _encoded(_photo(), "HEIF"),
    "cmyk.jpg": lambda: _encoded(_photo().convert("CMYK"), "JPEG"),
    "sixteen-bit.png": lambda: _encoded(Image.new("I;16", (96, 72), 40_000), "PNG"),
    "palette-with-transparency.png": lambda: _encoded(_photo().convert("P"), "PNG", transparency=0),
}

REFUSED_PHOTOS = {
    "one-bit-bomb.png": (lambda: _encoded(Image.new("1", (7000, 7000)), "PNG"), "decompression bomb"),
    "huge-bomb.png": (lambda: _encoded(Image.new("1", (30_000, 30_000)), "PNG"), "too many pixels"),
    "empty.jpg": (lambda: b"", "empty"),
    "text.jpg": (lambda: b"this is a shopping list", "not an image"),
    "truncated.jpg": (lambda: _encoded(Image.effect_noise((300, 300), 50).convert("RGB"), "JPEG")[:3000],
                      "corrupt or truncated"),
    "gif.gif": (lambda: _encoded(_photo(), "GIF"), "not accepted"),
    "tiff-named.jpg": (lambda: _encoded(_photo(), "TIFF"), "not supported"),
    "strip.png": (lambda: _encoded(Image.new("RGB", (4000, 10)), "PNG"), "pixels each way"),
}


def _files(settings):
    root = settings.MEDIA_ROOT
    return sorted(os.path.relpath(os.path.join(folder, name), root)
                  for folder, _, names in os.walk(root) for name in names) if root.exists() else []


def _assert_nothing_kept(settings):
    assert not Listing.objects.exists() and not Photo.objects.exists() and not BulkJob.objects.exists()
    assert _files(settings) == []


@pytest.mark.parametrize("name", ACCEPTED_PHOTOS)
def test_a_photo_format_phones_write_is_accepted(api, name):
    photo = raw_upload(name, ACCEPTED_PHOTOS[name]())
    response = api.post("/api/v1/listings/", {"title": "Phone photo", "photos": [photo]})
    assert response.status_code == 201, response.content
    assert Photo.objects.get().image.name.endswith((".jpg", ".png", ".heic"))


@pytest.mark.parametrize("name", REFUSED_PHOTOS)
def test_a_hostile_photo_is_refused_with_its_reason_and_nothing_kept(api, settings, name):
    make, reason = REFUSED_PHOTOS[name]
    response = api.post("/api/v1/listings/", {"title": "Hostile", "photos": [raw_upload(name, make())]})
    assert response.status_code == 400 and reason in json.dumps(response.json()), response.content
    _assert_nothing_kept(settings)


@pytest.mark.parametrize("title", ["Nul\x00title", "Bell\x07"])
def test_nul_and_control_characters_in_a_title_are_refused(api, settings, title):
    response = api.post("/api/v1/listings/", {"title": title, "photos": [raw_upload("a.png", png_bytes())]})
    assert response.status_code == 400, response.content
    _assert_nothing_kept(settings)


@pytest.mark.parametrize("name", ["a\x00.png", "\x1b[31mred.png"])
def test_nul_and_control_characters_in_a_file_name_are_dropped_from_it(api, name):
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [raw_upload(name, png_bytes())]})
    assert response.status_code == 201 and Photo.objects.get().original_name.isprintable()


def _member_info(name, mode=None):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    if mode is not None:
        info.external_attr = mode << 16
    return info


def _archive(hostile_name, hostile_bytes, compression=zipfile.ZIP_STORED, mode=None):
    """A zip of a good photo (good.png) and the hostile member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_member_info("good.png"), png_bytes())
        archive.writestr(_member_info(hostile_name, mode), hostile_bytes, compression)
    return SimpleUploadedFile("photos.zip", buffer.getvalue(), content_type="application/zip")


HOSTILE_MEMBERS = {
    "traversal": (lambda: _archive("../../evil.png", png_bytes()), "../../evil.png", "leave the archive"),
    "absolute": (lambda: _archive("/etc/evil.png", png_bytes()), "/etc/evil.png", "leave the archive"),
    "symlink": (lambda: _archive("link.png", b"/etc/passwd", mode=stat.S_IFLNK | 0o777), "link.png", "not an image"),
    "zip bomb": (lambda: _archive("zeros.png", bytes(60 * 1024 * 1024), zipfile.ZIP_DEFLATED), "zeros.png",
                 "uncompressed"),
    "pixel bomb": (lambda: _archive("plain.jpg", _encoded(Image.new("RGB", (7000, 7000)), "JPEG"),
                                    zipfile.ZIP_DEFLATED), "plain.jpg", "decompression bomb"),
    "encrypted": (lambda: with_unreadable_member(_archive("locked.png", png_bytes()), "locked.png", flag_bits=1),
                  "locked.png", "encrypted"),
    "deflate64": (lambda: with_unreadable_member(_archive("d64.png", png_bytes()), "d64.png", compress_type=9),
                  "d64.png", "Deflate64"),
}


@pytest.mark.parametrize("case", HOSTILE_MEMBERS)
def test_a_hostile_archive_member_rejects_its_row_only(api, settings, case):
    make_archive, name, reason = HOSTILE_MEMBERS[case]
    response, job = send_bulk(api, manifest=csv_manifest("good,Good mug,good.png", f"bad,Bad mug,{name}"),
                              archive=make_archive())
    assert response.status_code == 202, response.content
    assert [row["reference"] for row in job["accepted"]] == ["good"]
    [rejected] = job["rejected"]
    assert rejected["reference"] == "bad" and reason in " ".join(rejected["errors"]), rejected
    assert [path.split("/")[0] for path in _files(settings)] == ["photos"]  # the good photo's; the archive is gone


HOSTILE_MANIFESTS = {
    "nul in a title": ("manifest.csv", "reference,title,photos\nbad,Nul\x00title,good.png"),
    "nul in a reference": ("manifest.csv", "reference,title,photos\nbad\x00,Mug,good.png"),
    "nul in a photo name": ("rows.json", '[{"reference": "bad", "title": "Mug", "photos": ["good\\u0000.png"]}]'),
    "huge number title": ("rows.json", '[{"reference": "bad", "title": 1e9999999999999999999, '
                                       '"photos": ["good.png"]}]'),
    "huge number reference": ("rows.json", '[{"reference": 123456789012345678901234567890123, "title": "Mug", '
                                           '"photos": ["good.png"]}]'),
    "object title": ("rows.json", '[{"reference": "bad", "title": {"$gt": ""}, "photos": ["good.png"]}]'),
}


@pytest.mark.parametrize("case", HOSTILE_MANIFESTS)
def test_a_hostile_manifest_row_is_rejected_with_a_reason(api, settings, case):
    name, text = HOSTILE_MANIFESTS[case]
    response, job = send_bulk(api, manifest=SimpleUploadedFile(name, text.encode()),
                              archive=zip_upload([("good.png", png_bytes())]))
    assert response.status_code == 202, response.content
    assert job["accepted"] == [] and job["rejected"][0]["errors"], job
    _assert_no_listing_and_no_archive(settings)


REFUSED_MANIFESTS = {
    "deep json": ("rows.json", "[" * 100_000 + "]" * 100_000),
    "nan": ("rows.json", '[{"title": NaN, "photos": ["good.png"]}]'),
    "not json rows": ("rows.json", '{"title": "Mug"}'),
    "unclosed quote": ("manifest.csv", 'reference,title,photos\nbad,"Mug,good.png'),
    "unclosed quote in the header": ("manifest.csv", 'reference,title,"photos\nbad,Mug,good.png'),
    "binary": ("manifest.csv", "\x00\xff\xfe" * 1000),
    "no header": ("manifest.csv", "bad,Mug,good.png"),
}


@pytest.mark.parametrize("case", REFUSED_MANIFESTS)
def test_a_hostile_manifest_is_refused_whole_and_nothing_kept(api, settings, case):
    name, text = REFUSED_MANIFESTS[case]
    response, _ = send_bulk(api, manifest=SimpleUploadedFile(name, text.encode("utf-8", "surrogateescape")),
                            archive=zip_upload([("good.png", png_bytes())]))
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json", response.content
    _assert_nothing_kept(settings)


def test_an_archive_that_is_not_a_zip_is_refused_whole_and_nothing_kept(api, settings):
    not_a_zip = SimpleUploadedFile("photos.zip", b"PK\x03\x04 not really", content_type="application/zip")
    response, _ = send_bulk(api, manifest=csv_manifest("good,Good mug,good.png"), archive=not_a_zip)
    assert response.status_code == 400, response.content
    _assert_nothing_kept(settings)


def _assert_no_listing_and_no_archive(settings):
    assert not Listing.objects.exists() and not Photo.objects.exists()
    assert _files(settings) == []
