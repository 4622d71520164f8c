"""A page of the review queue costs the same queries however many cards it shows: each card's
listing (waiting for an audit? decided again?) and its item's neighbours were queries of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Item, Listing, Photo, ReviewDecision

pytestmark = pytest.mark.django_db


def _card(owner, number, audit=True, staff=None):
    listing = Listing.objects.create(seller=owner, title=f"Listing {number}")
    photo = Photo.objects.create(listing=listing, original_name=f"{number}.png", width=8, height=8,
                                 image=f"photos/{number}.png", status=Photo.Status.DONE)
    apple = Category.objects.get_or_create_path(["Fruit", f"Apple {number}"])
    fields = dict(photo=photo, box=[0, 0, 8, 8], crop_box=[0, 0, 8, 8], category=apple, confidences=[0.99, 0.6],
                  decided_lineage=apple.lineage_ids(), confidence=0.6, outcome="needs_review", predicted_category=apple,
                  predicted_path=apple.path, heatmap_of=apple, embedding=bytes(16), embedding_version="test-1",
                  neighbours=[{"reference": "00000000-0000-0000-0000-000000000001", "path": apple.path,
                               "similarity": 0.9}])
    Item.objects.create(**fields)
    if audit:
        Item.objects.create(**fields, audit=True)  # a waiting audit: its listing's category is hidden
    decided = Item.objects.create(**{**fields, "outcome": "accepted"})
    decided.review = "corrected"
    decided.save()
    if staff:  # decided since the listing was: its category is being decided again
        ReviewDecision.objects.create(item=decided, reviewer=staff, action="corrected", old_category=apple,
                                      new_category=apple)


def _queries(client):
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/review/")
    assert page.status_code == 200
    return len(captured), page.content.decode()


def test_the_queue_costs_the_same_queries_for_one_listings_cards_or_four(staff_client, owner, staff):
    _card(owner, 0)
    _card(owner, 1, audit=False, staff=staff)
    three, _ = _queries(staff_client)
    for number in range(2, 5):
        _card(owner, number, audit=number % 2 == 0, staff=staff if number % 2 else None)
    twelve, page = _queries(staff_client)
    assert page.count('class="photo-card review-item"') == 8  # pending: the audits and those needing review
    assert page.count("hidden while one of its items waits for a blind audit") == 3  # on the other cards
    assert page.count("being decided again after catalogue staff&#x27;s decision") == 2
    assert twelve <= three, f"{three} queries for one listing's cards, {twelve} for four"
