"""A seller manages a listing from its page in a browser: edits the title, chooses another
category, adds a photo (categorized like the first), then deletes the listing."""

import re

from playwright.sync_api import expect

from catalog.models import Category, Listing
from tests.browser.conftest import SETTLE_MS, listing_of, log_in
from tests.photos import grocery_images
from worker import embedded


def test_a_seller_edits_recategorizes_adds_photos_and_deletes(served, imported_catalogue, owner, page, screenshot):
    listing = listing_of(owner, "Bananas", grocery_images("val", "Fruit/Banana", 1)[0])
    assert embedded.wait_idle(SETTLE_MS / 1000)
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    log_in(page, served, owner)
    page.get_by_role("link", name="Bananas").click()

    page.get_by_text("Edit this listing").click()
    page.get_by_label("Title").fill("Ripe bananas")
    page.get_by_role("button", name="Save title").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ripe bananas")

    page.get_by_text("Edit this listing").click()
    page.get_by_label("Category").fill("Fruit > Plantain")
    page.get_by_role("button", name=re.compile("category")).click()
    expect(page.locator("#listing-decision")).to_contain_text("Plantain")
    expect(page.locator("#listing-decision")).to_contain_text("Chosen by the seller")

    page.get_by_text("Edit this listing").click()
    page.get_by_label("Add photos").set_input_files(grocery_images("val", "Fruit/Banana", 2)[1])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".notice")).to_contain_text("Added 1 photo")
    expect(page.locator(".badge.done")).to_have_count(2, timeout=SETTLE_MS)
    expect(page.locator("#listing-decision")).to_contain_text("Plantain")  # the seller's choice stands
    screenshot(page, "1-managed")

    page.get_by_text("Edit this listing").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete listing").click()
    expect(page.locator(".notice")).to_contain_text("Deleted “Ripe bananas”")
    assert not Listing.objects.filter(pk=listing.pk).exists()
