"""The app's files in an S3 bucket (CATALOG_STORAGE=s3, on the SeaweedFS endpoint bin/test starts):
uploads stored there, served through the owner's check as a redirect to a signed URL that expires,
and deleted from the bucket with their listing or their account."""

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from catalog.models import Listing
from tests.photos import grocery_upload, png_bytes

pytestmark = pytest.mark.django_db


def _names(bucket):
    return sorted(summary.key for summary in bucket.objects.all())


def test_an_upload_is_stored_in_the_bucket_and_served_by_a_signed_url(s3_storage, api, outsider_api):
    created = api.post("/api/v1/listings/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert created.status_code == 201, created.content
    photo = Listing.objects.get().photos.get()
    assert _names(s3_storage) == [photo.image.name]

    answer = api.get(f"/api/v1/photos/{photo.uuid}/image?size=original")
    assert answer.status_code == 302 and answer["Cache-Control"] == "private, no-store"
    signed = answer["Location"]
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert requests.get(signed, timeout=30).content == photo.image.open("rb").read()
    assert outsider_api.get(f"/api/v1/photos/{photo.uuid}/image").status_code == 404  # before any URL is signed


def test_a_deleted_listing_takes_its_objects_out_of_the_bucket(s3_storage, listing, make_item,
                                                               django_capture_on_commit_callbacks):
    item = make_item()
    item.heatmap.save("heatmap.png", ContentFile(png_bytes()), save=True)
    assert len(_names(s3_storage)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        listing.delete()
    assert _names(s3_storage) == []


def test_a_deleted_account_takes_every_object_of_its_out_of_the_bucket(s3_storage, owner, outsider, api,
                                                                       django_capture_on_commit_callbacks):
    for title in ("Bananas", "More bananas"):
        api.post("/api/v1/listings/", {"title": title, "photos": [grocery_upload("Fruit/Banana")]})
    others = Listing.objects.create(seller=outsider, title="Theirs")
    kept = others.photos.create(original_name="theirs.png", width=24, height=24)
    kept.image.save("photo.png", ContentFile(png_bytes()), save=True)
    assert len(_names(s3_storage)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        get_user_model().objects.filter(pk=owner.pk).delete()
    assert _names(s3_storage) == [kept.image.name]


def test_an_upload_while_the_bucket_cannot_be_reached_is_a_503_that_makes_nothing(s3_storage, settings, api):
    settings.STORAGES = settings.STORAGES | {"default": settings.STORAGES["default"] | {
        "OPTIONS": settings.CATALOG_S3_OPTIONS | {"endpoint_url": "http://127.0.0.1:9"}}}
    refused = api.post("/api/v1/listings/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert refused.status_code == 503 and int(refused["Retry-After"]) > 0
    assert refused.json()["detail"].startswith("The service is briefly unavailable; nothing was changed.")
    assert not Listing.objects.exists()
