"""The listing page (and the photo cards it polls every 2 s while photos are categorized) costs the
same queries however many items its photos have: each item's neighbours, paths and staff decision
were queries of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Item, Photo
from catalog.review import decide

pytestmark = pytest.mark.django_db


def _photo_with_items(listing, number, staff):
    stored = listing.photos.order_by("pk").first().image.name  # the fixture's: staff's decision crops it
    photo = Photo.objects.create(listing=listing, original_name=f"{number}.png", width=8, height=8,
                                 image=stored, status=Photo.Status.DONE)
    apple = Category.objects.get_or_create_path(["Fruit", f"Apple {number}"])
    for _ in range(2):
        item = Item.objects.create(
            photo=photo, box=[0, 0, 8, 8], crop_box=[0, 0, 8, 8], category=apple, confidences=[0.99, 0.6],
            decided_lineage=apple.lineage_ids(), confidence=0.6, outcome="needs_review", predicted_category=apple,
            predicted_path=apple.path, embedding=bytes(16), embedding_version="test-1",
            neighbours=[{"reference": "00000000-0000-0000-0000-000000000001", "path": apple.path, "similarity": 0.9}])
    decide(item, Category.objects.get_or_create_path(["Fruit", f"Pear {number}"]), staff)


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["", "photos/"])
def test_the_listing_page_costs_the_same_queries_for_one_photo_or_four(owner_client, listing, staff, page):
    _photo_with_items(listing, 0, staff)
    one = _queries(owner_client, f"/listings/{listing.uuid}/{page}")
    for number in range(1, 4):
        _photo_with_items(listing, number, staff)
    four = _queries(owner_client, f"/listings/{listing.uuid}/{page}")
    assert four <= one, f"{one} queries for one photo of two items, {four} for four"
