"""Small requests that would cost a lot: one archive member named by many rows, a tiny archive of
huge plain photos, and more photos than a seller may upload in a day."""

import pytest
from PIL import Image

from catalog.models import Listing, Photo
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, encoded_upload, png_bytes, zip_upload

pytestmark = pytest.mark.django_db


def _post(api, rows, members):
    """The job, once its import ran."""
    return send_bulk(api, manifest=csv_manifest(*rows), archive=zip_upload(members))[1]


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
    refused = api.post("/api/v1/listings/", {"title": "More", "photos": [encoded_upload("m.png")]})
    assert refused.status_code == 429 and "24 hours" in refused.json()["detail"]
    photo = encoded_upload("m.png", Image.new("RGB", (32, 32)))
    form = owner_client.post("/listings/new/", {"title": "More", "photos": [photo]})
    assert "24 hours" in form.content.decode() and Listing.objects.count() == 2
