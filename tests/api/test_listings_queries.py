"""A page of listings costs the same few queries however many items it shows: each path shown (an
item's levels, its best guess, runners-up, heatmap, what was accepted) was a query of its own, and
a page of 50 listings of a few items each took over a thousand."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Item, Listing, Photo, tree_read_once

pytestmark = pytest.mark.django_db


def _listing_with_items(seller, number):
    listing = Listing.objects.create(seller=seller, title=f"Listing {number}")
    photo = Photo.objects.create(listing=listing, original_name=f"{number}.png", width=8, height=8,
                                 image=f"photos/{number}.png", status=Photo.Status.DONE)
    apple = Category.objects.get_or_create_path(["Fruit", f"Apple {number}"])
    pear = Category.objects.get_or_create_path(["Fruit", f"Pear {number}"])
    for category, other in ((apple, pear), (pear, apple)):
        lineage = category.lineage_ids()
        Item.objects.create(photo=photo, box=[0, 0, 8, 8], crop_box=[0, 0, 8, 8], category=category,
                            confidences=[0.99, 0.6], decided_lineage=lineage, confidence=0.6,
                            outcome="accepted_at_parent", accepted_depth=1, predicted_category=category,
                            predicted_path=category.path, heatmap_of=category, heatmap_category=category.path,
                            alternatives=[{"category": other.pk, "path": other.path, "confidence": 0.3}],
                            embedding=bytes(16), embedding_version="test-1")
    Listing.objects.filter(pk=listing.pk).update(category=apple, decided_lineage=apple.lineage_ids(),
                                                 confidences=[0.99, 0.6], outcome="accepted_at_parent",
                                                 accepted_depth=1)
    return listing


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200
    return len(captured), answer


def test_the_listings_page_of_the_api_costs_the_same_queries_for_one_listing_or_five(api, owner):
    _listing_with_items(owner, 0)
    one, _ = _queries(api, "/api/v1/listings/")
    for number in range(1, 5):
        _listing_with_items(owner, number)
    five, answer = _queries(api, "/api/v1/listings/")
    assert len(answer.json()["results"]) == 5
    item = answer.json()["results"][0]["photos"][0]["items"][0]
    assert item["alternatives"] == [{"path": "Fruit > Pear 4", "confidence": 0.3}] and item["accepted_depth"] == 1
    assert five <= one, f"{one} queries for one listing, {five} for five"


def test_a_category_renamed_within_a_request_is_read_again(owner):
    # The tree is read once a request, and again once a category is saved or deleted.
    listing = _listing_with_items(owner, 0)
    item = listing.photos.get().items.first()
    with tree_read_once():
        assert item.shown_predicted_path == "Fruit > Apple 0"
        fruit = Category.objects.get(path="Fruit")
        fruit.name = "Fruits"
        fruit.save()
        assert item.shown_predicted_path == "Fruits > Apple 0"


def test_a_category_made_by_another_process_during_a_request_is_read(owner):
    # The request's tree was read before another process made the category: its path was a KeyError.
    with tree_read_once():
        fruit = Category.objects.get_or_create_path(["Fruit"])
        assert fruit.lineage_ids() == [fruit.pk]
        Category.objects.bulk_create([Category(parent=fruit, name="Quince", path="Fruit > Quince")])  # no signal
        quince = Category.objects.get(path="Fruit > Quince")
        assert quince.lineage_ids() == [fruit.pk, quince.pk]
