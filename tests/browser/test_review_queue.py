"""Catalogue staff work through the review queue in a browser: accept one item, correct another
with the category picker, and mark a third as not in the catalogue; the Quality page then measures
the model by those decisions."""

import re

from playwright.sync_api import expect

from catalog.models import Item, ReviewDecision
from tests.browser.conftest import SETTLE_MS, listing_of, log_in
from tests.photos import grocery_images
from worker import embedded

STAFF_PASSWORD = "a-long-password-3"


def card(page, title):
    return page.locator("article.review-item").filter(has_text=f"“{title}”")


def test_staff_accept_correct_and_set_aside_items(served, imported_catalogue, owner, staff, page, screenshot,
                                                  settings):
    settings.CATALOG_SEGMENTER = ""  # one item a photo: one card each
    for title, leaf in (("Bananas", "Fruit/Banana"), ("Carrots", "Vegetables/Carrots"),
                        ("Mystery", "Fruit/Apple/Granny-Smith")):
        listing_of(owner, title, grocery_images("val", leaf, 1)[0])
    assert embedded.wait_idle(SETTLE_MS / 1000)

    log_in(page, served, staff, STAFF_PASSWORD)
    page.get_by_role("link", name="Review").click()
    expect(page.locator("article.review-item")).to_have_count(3)
    screenshot(page, "1-queue")
    page.get_by_label("Show heatmaps").check()  # the README's screenshot (docs/review-queue.png)
    screenshot(page, "1-queue-heatmaps")
    page.get_by_label("Show heatmaps").uncheck()

    card(page, "Bananas").get_by_role("button", name="Accept").click()
    expect(page.locator(".notice")).to_contain_text("Accepted")
    card(page, "Carrots").get_by_label("Correct category").fill("Fruit > Apple > Granny-Smith")
    card(page, "Carrots").get_by_role("button", name="Correct").click()
    expect(page.locator(".notice")).to_contain_text("Corrected to Fruit > Apple > Granny-Smith")
    card(page, "Mystery").get_by_role("button", name="Not in the catalogue").click()
    expect(page.locator(".notice")).to_contain_text(re.compile("not in the catalogue", re.I))
    expect(page.get_by_text("Nothing to review with these filters.")).to_be_visible()
    screenshot(page, "2-queue-done")

    decided = {d.item.photo.listing.title: (d.action, d.new_category and d.new_category.path)
               for d in ReviewDecision.objects.select_related("item__photo__listing", "new_category")}
    assert decided == {"Bananas": ("accepted", "Fruit > Banana"),
                       "Carrots": ("corrected", "Fruit > Apple > Granny-Smith"),
                       "Mystery": ("not_in_catalogue", None)}
    assert Item.objects.filter(review="pending").count() == 0

    page.get_by_role("link", name="Quality").click()
    expect(page.get_by_text("right, of 3 reviewed items")).to_be_visible()
    expect(page.locator("#most-corrected")).to_contain_text("Vegetables > Carrots")
    expect(page.locator("#most-corrected")).to_contain_text("Fruit > Apple > Granny-Smith (1)")
    screenshot(page, "3-quality")
