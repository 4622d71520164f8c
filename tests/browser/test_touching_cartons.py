"""Two cartons touching side by side are two products: the listing page shows two items, each with
its own box over the photo, one on each carton (the UNet before the detector saw one blob)."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import SETTLE_MS, listing_of, log_in
from tests.photos import copy_cartons_catalogue, touching_cartons_photo
from worker import embedded


@pytest.fixture
def cartons_catalogue(tmp_path):
    """A catalogue that holds both cartons: an item unlike the catalogue beside the main one is dropped."""
    call_command("import_catalog", str(copy_cartons_catalogue(tmp_path / "cartons")), stdout=io.StringIO(),
                 stderr=io.StringIO())


def test_two_touching_cartons_show_two_items_with_two_boxes(served, cartons_catalogue, owner, page, screenshot,
                                                           tmp_path):
    photo = tmp_path / "two-cartons.jpg"
    image = touching_cartons_photo()
    image.save(photo)
    listing = listing_of(owner, "Milk and juice", photo)
    assert embedded.wait_idle(SETTLE_MS / 1000)

    log_in(page, served, owner)
    page.goto(f"{served}/listings/{listing.uuid}/")
    expect(page.locator(".photo-body .item")).to_have_count(2)
    boxes = page.locator(".overlay rect.box")
    expect(boxes).to_have_count(2)
    screenshot(page, "two-cartons")
    spans = sorted((float(box.get_attribute("x")), float(box.get_attribute("x")) + float(box.get_attribute("width")))
                   for box in boxes.all())
    middle = image.width / 2  # where the cartons meet
    assert spans[0][0] < middle - 100 and abs(spans[0][1] - middle) < 40  # the milk carton's box
    assert abs(spans[1][0] - middle) < 40 and spans[1][1] > middle + 100  # the juice carton's box
