"""On the listing page, "Show what the model looked at" lays one item's heatmap over the photo: the
main item's, then the one pointed at or focused; overlapping items' heatmaps never stack."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import SETTLE_MS, listing_of, log_in
from tests.photos import two_product_photo
from worker import embedded


def test_the_heatmap_toggle_shows_the_pointed_items_heatmap(served, imported_catalogue, owner, page, screenshot,
                                                           tmp_path):
    photo = tmp_path / "two-products.jpg"
    two_product_photo("Fruit/Banana", "Vegetables/Carrots").save(photo)
    listing = listing_of(owner, "Banana and carrots", photo)
    assert embedded.wait_idle(SETTLE_MS / 1000)

    log_in(page, served, owner)
    page.goto(f"{served}/listings/{listing.uuid}/")
    items = page.locator(".photo-body .item")
    expect(items).to_have_count(2)
    heatmaps = page.locator(".overlay .heat")
    expect(heatmaps.first).to_be_hidden()

    page.get_by_label("Show what the model looked at").check()
    expect(page.locator(".overlay .heat:visible")).to_have_count(1)
    expect(page.locator('.overlay .heat[data-item="1"]')).to_be_visible()
    screenshot(page, "1-main-item")

    items.nth(1).hover()
    expect(page.locator(".overlay .heat:visible")).to_have_count(1)
    expect(page.locator('.overlay .heat[data-item="2"]')).to_be_visible()
    screenshot(page, "2-second-item")

    # From the keyboard too: the item focused shows its own, and is marked by more than a tint.
    items.nth(0).focus()
    expect(page.locator(".overlay .heat:visible")).to_have_count(1)
    expect(page.locator('.overlay .heat[data-item="1"]')).to_be_visible()
    expect(items.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(items.nth(0)).to_have_css("box-shadow", re.compile(r"rgb\(154, 103, 0\)"))

    page.get_by_label("Show what the model looked at").uncheck()
    expect(page.locator(".overlay .heat:visible")).to_have_count(0)
