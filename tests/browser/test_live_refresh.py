"""The listing page's live refresh (static/catalog/live.js) while photos are categorized: it redraws
the photo cards only when they changed, never while anything in them has the focus (a keyboard or
screen reader user would be thrown back to the page's top), and says once, in a polite live region
outside them, when the photos are done."""

from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Category, Listing, Outcome, Photo
from tests.browser.conftest import log_in
from tests.photos import png_bytes


def wait_for_refresh(page, listing):
    """Until the page has asked for its photo cards again (every 2 seconds while some are pending)."""
    with page.expect_response(lambda response: response.url.endswith(f"/listings/{listing.uuid}/photos/"),
                              timeout=10_000):
        pass


def test_the_refresh_keeps_the_focus_and_says_once_when_the_photos_are_done(served, owner, listing, page):
    second = Photo(listing=listing, original_name="bunch.png", width=24, height=24)
    second.image.save("bunch.png", ContentFile(png_bytes()), save=True)  # both queued: nobody categorizes them
    log_in(page, served, owner)
    page.goto(f"{served}/listings/{listing.uuid}/")
    status = page.locator("#photos-status")
    expect(status).to_have_attribute("aria-live", "polite")
    assert page.locator("#photos #photos-status").count() == 0  # outside what is redrawn

    remove = page.get_by_role("button", name="Remove photo bunch.png")
    remove.focus()
    wait_for_refresh(page, listing)
    expect(remove).to_be_focused()
    remove.blur()

    # Unchanged, the cards are left as they are: a mark on the card element (a property, not in its
    # HTML) outlives the refreshes.
    page.locator("#photos .photo-card").first.evaluate("card => { card.seen = true; }")
    # Nor redrawn when the page itself changed them: pointing at an item moves its heatmap's mark.
    page.locator("#photos .photo-card").first.evaluate("card => card.classList.add('pointed-at')")
    wait_for_refresh(page, listing)
    wait_for_refresh(page, listing)
    assert page.locator("#photos .photo-card").first.evaluate("card => card.seen === true")

    remove.focus()

    # Done while the button has the focus: said at once, and the cards wait for the focus to leave.
    _categorize(listing)
    expect(status).to_have_text("Categorized: Fruit › Banana (accepted automatically)")
    page.wait_for_timeout(2_500)  # a refresh's time: said, nothing is asked again until the focus leaves
    expect(remove).to_be_focused()
    expect(page.locator("#photos .badge.queued")).to_have_count(2)

    remove.blur()
    expect(page.locator("#photos .badge.done")).to_have_count(2)
    expect(status).to_have_text("Categorized: Fruit › Banana (accepted automatically)")


def _categorize(listing):
    """Both photos done and the listing decided, as a worker would leave them."""
    banana = Category.objects.get_or_create_path(["Fruit", "Banana"])
    listing.photos.update(status=Photo.Status.DONE)
    Listing.objects.filter(pk=listing.pk).update(
        category=banana, decided_lineage=banana.lineage_ids(), confidences=[0.99, 0.97],
        calibrated=True, outcome=Outcome.ACCEPTED, accepted_depth=2, decided=timezone.now())
