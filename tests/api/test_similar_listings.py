import numpy as np
import pytest
from django.core.files.base import ContentFile

from catalog.models import Item, Listing, Photo

pytestmark = pytest.mark.django_db


def _listing_with_item(seller, title, direction):
    listing = Listing.objects.create(seller=seller, title=title)
    photo = Photo(listing=listing, original_name="p.png", width=8, height=8, status="done")
    photo.image.save("p.png", ContentFile(b"png"), save=True)
    embedding = np.asarray(direction, np.float32)
    Item.objects.create(photo=photo, box=[0, 0, 8, 8], embedding=(embedding / np.linalg.norm(embedding)).tobytes(),
                        embedding_version="test-1")
    return listing


def test_the_most_alike_of_the_sellers_other_listings_come_first(api, owner, outsider):
    mug = _listing_with_item(owner, "Mug", [1, 0, 0])
    _listing_with_item(owner, "Cup", [0.9, 0.1, 0])
    _listing_with_item(owner, "Shoe", [0, 0, 1])
    _listing_with_item(outsider, "Their mug", [1, 0, 0])
    body = api.get(f"/api/v1/listings/{mug.uuid}/similar/").json()
    assert [entry["listing"]["title"] for entry in body] == ["Cup", "Shoe"]
    assert body[0]["similarity"] > 0.99 and body[1]["similarity"] == 0


def test_a_listing_not_categorized_yet_has_none(api, listing):
    assert api.get(f"/api/v1/listings/{listing.uuid}/similar/").json() == []


def test_another_sellers_listing_is_404(outsider_api, listing):
    assert outsider_api.get(f"/api/v1/listings/{listing.uuid}/similar/").status_code == 404
