"""A real `celery worker` process consumes the task from the real Redis and writes to PostgreSQL."""

import pytest

from catalog.models import Listing
from tests.celery_support import wait_until_settled
from tests.photos import grocery_upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_categorizes_an_uploaded_photo(celery_worker, imported_catalogue, owner_client):
    process, log = celery_worker
    response = owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert response.status_code == 302
    listing = Listing.objects.get()
    assert listing.photos.get().status in ("queued", "processing")  # not done in the web process
    wait_until_settled(listing)
    photo = listing.photos.get()
    log.seek(0)
    assert photo.status == "done", f"photo is {photo.status}; worker log:\n{log.read()[-3000:]}"
    assert photo.items.first().category.path == "Fruit > Banana"
    assert process.poll() is None
