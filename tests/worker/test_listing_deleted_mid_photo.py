"""A seller deletes a listing while a worker is categorizing its photo: the worker drops the result
quietly (no error logged, nothing left behind) and goes on."""

import time

import pytest

from catalog.models import Item, Listing
from tests.photos import grocery_upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_drops_the_photo_of_a_deleted_listing_quietly(start_worker, imported_catalogue, owner_client,
                                                                   api):
    _, log = start_worker()
    owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    listing = Listing.objects.get()
    deadline = time.monotonic() + 120
    while listing.photos.get().status != "processing" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.delete(f"/api/v1/listings/{listing.uuid}/").status_code == 204  # mid-photo: models still loading
    while "succeeded" not in _read(log) and time.monotonic() < deadline:
        time.sleep(0.2)
    text = _read(log)
    assert "succeeded" in text and "ERROR" not in text and "Traceback" not in text, text[-3000:]
    assert not Listing.objects.exists() and not Item.objects.exists()


def _read(log):
    log.seek(0)
    return log.read()
