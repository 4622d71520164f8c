"""Accepted photos are drawn for audit as the worker saves them, and daily per top-level category."""

import pytest
from django.core.files.base import ContentFile

from catalog.models import Listing, Photo
from tests.photos import grocery_images
from tests.worker.test_categorize_photo_outcomes import near_duplicate
from worker.tasks import categorize_photo, draw_daily_audits

pytestmark = pytest.mark.django_db


def categorized_item(owner, data):
    listing = Listing.objects.create(seller=owner, title="A product")
    photo = Photo(listing=listing, original_name="photo.jpg", width=348, height=348)
    photo.image.save("photo.jpg", ContentFile(data), save=True)
    categorize_photo(photo.id)
    return Photo.objects.get(pk=photo.pk).items.get()


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_an_accepted_item_is_drawn_at_the_audit_rate(calibrated_catalogue, owner, settings, rate):
    settings.CATALOG_SEGMENTER = ""
    settings.CATALOG_AUTO_ACCEPT_PRECISION = 0.9  # what 72 left-out references can show
    settings.CATALOG_AUDIT_RATE = rate
    item = categorized_item(owner, near_duplicate(grocery_images("train", "Fruit/Banana", 1)[0]))
    assert item.outcome == "accepted" and item.audit == bool(rate)
    assert draw_daily_audits() == (0 if rate else 1)  # with none drawn, the day's one is
    item.refresh_from_db()
    assert item.audit
