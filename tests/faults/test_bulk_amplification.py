"""Small requests that would cost a lot: one archive member named by many rows, a tiny archive of
huge plain photos (decompression bombs), and more photos or megapixels than a seller may upload in
a day, deleting what was uploaded giving none back."""

import io
import zipfile

import pytest
from PIL import Image

from catalog.models import Listing, Photo
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, encoded_upload, png_bytes, raw_upload, zip_upload

pytestmark = pytest.mark.django_db


def _post(api, rows, members, compression=zipfile.ZIP_STORED):
    """The job, once its import ran."""
    return send_bulk(api, manifest=csv_manifest(*rows), archive=zip_upload(members, compression))[1]


def _reasons(job):
    return {row["row"]: " ".join(row["errors"]) for row in job["rejected"]}


def test_an_archive_member_serves_one_row_only(api):
    job = _post(api, [f"{n},Mug {n},big.png" for n in range(100)], [("big.png", png_bytes())])
    reasons = _reasons(job)
    assert len(job["accepted"]) == 1 and len(reasons) == 99
    assert "already used by row 1" in reasons[2] and Photo.objects.count() == 1


def test_a_request_brings_a_limited_number_of_pixels(api, settings):
    settings.CATALOG_MAX_REQUEST_PIXELS = 2 * 1000 * 1000
    plain = png_bytes(size=(1000, 1000))  # a few kilobytes that decode to a megapixel each
    job = _post(api, [f"{n},Plain {n},p{n}.png" for n in range(3)], [(f"p{n}.png", plain) for n in range(3)])
    assert len(job["accepted"]) == 2 and "megapixels in all" in _reasons(job)[3]


def test_a_seller_uploads_a_limited_number_of_photos_a_day(api, owner_client, settings):
    settings.CATALOG_SELLER_PHOTOS_PER_DAY = 2
    job = _post(api, ["1,One,a.png", "2,Two,b.png", "3,Three,c.png"],
                [(name, png_bytes((n * 40, 0, 0))) for n, name in enumerate(("a.png", "b.png", "c.png"))])
    assert len(job["accepted"]) == 2 and "24 hours" in _reasons(job)[3]
    key = {"Idempotency-Key": "more-1"}
    refused = api.post("/api/v1/listings/", {"title": "More", "photos": [encoded_upload("m.png")]}, headers=key)
    assert refused.status_code == 429 and "24 hours" in refused.json()["detail"]
    # When more may follow: when the job's photos, the earliest still counted, stop counting.
    assert 23 * 3600 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert "More may follow in about 24 hours" in refused.json()["detail"]
    # Sent again then with the same key, the request is tried again, not answered from memory.
    settings.CATALOG_SELLER_PHOTOS_PER_DAY = 3
    again = api.post("/api/v1/listings/", {"title": "More", "photos": [encoded_upload("m.png")]}, headers=key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    settings.CATALOG_SELLER_PHOTOS_PER_DAY = 3
    photo = encoded_upload("m.png", Image.new("RGB", (32, 32)))
    form = owner_client.post("/listings/new/", {"title": "More", "photos": [photo]})
    assert "24 hours" in form.content.decode() and Listing.objects.count() == 3


def _plain_jpeg(side):
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (90, 140, 200)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def test_a_tiny_archive_of_huge_plain_photos_is_refused_member_by_member(api):
    huge = _plain_jpeg(7000)  # 49 megapixels, deflated in the archive to about a kilobyte
    members = [(f"huge{n}.jpg", huge) for n in range(20)]
    assert len(zip_upload(members, zipfile.ZIP_DEFLATED).read()) < 32 * 1024
    job = _post(api, [f"{n},Huge {n},huge{n}.jpg" for n in range(20)], members, zipfile.ZIP_DEFLATED)
    accepted_pixels = sum(photo.width * photo.height for photo in Photo.objects.all())
    assert accepted_pixels <= 100_000_000 and len(job["rejected"]) == 20
    assert "decompression bomb" in _reasons(job)[1] and "huge0.jpg" in _reasons(job)[1]


def test_a_plain_upload_that_decodes_to_far_more_than_its_bytes_is_refused(api):
    one_bit = io.BytesIO()
    Image.new("1", (7000, 7000)).save(one_bit, "PNG")  # 6 KB: 8,000 pixels a byte
    bomb = api.post("/api/v1/listings/", {"title": "Bomb", "photos": [raw_upload("bomb.png", one_bit.getvalue())]})
    assert bomb.status_code == 400 and "decompression bomb" in str(bomb.json()) and Photo.objects.count() == 0


def test_deleting_listings_gives_no_photos_back(api, settings):
    settings.CATALOG_SELLER_PHOTOS_PER_DAY = 2
    for title in ("One", "Two"):
        made = api.post("/api/v1/listings/", {"title": title, "photos": [encoded_upload("m.png")]})
        assert made.status_code == 201
        assert api.delete(f"/api/v1/listings/{made.json()['uuid']}/").status_code == 204
    refused = api.post("/api/v1/listings/", {"title": "Three", "photos": [encoded_upload("m.png")]})
    assert refused.status_code == 429 and "24 hours" in refused.json()["detail"] and Listing.objects.count() == 0


def test_a_seller_uploads_a_limited_number_of_megapixels_a_day(api, settings):
    settings.CATALOG_SELLER_MEGAPIXELS_PER_DAY = 1
    photo = Image.effect_noise((800, 800), 60).convert("RGB")  # 0.64 megapixels
    made = api.post("/api/v1/listings/", {"title": "One", "photos": [encoded_upload("a.jpg", photo, "JPEG")]})
    assert made.status_code == 201
    refused = api.post("/api/v1/listings/", {"title": "Two", "photos": [encoded_upload("b.jpg", photo, "JPEG")]})
    assert refused.status_code == 429 and "megapixels" in refused.json()["detail"] and Listing.objects.count() == 1
