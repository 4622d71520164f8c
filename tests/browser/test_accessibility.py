"""The pages sellers and catalogue staff use pass axe-core's checks: no serious or critical
violation, at a desktop's width and at a phone's (390 px), with real data on them (categorized
photos, a review card, an API token, a decision on the Quality page, a form showing its errors)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from catalog.models import ApiToken, Item
from catalog.review import decide
from tests.browser.conftest import PHONE, SETTLE_MS, listing_of, log_in
from tests.photos import grocery_images
from worker import embedded

STAFF_PASSWORD = "a-long-password-3"
DESKTOP = {"width": 1280, "height": 900}
# Moderate and minor findings (a heading level skipped, say) are left to judgement; these block people.
BLOCKING = {"serious", "critical"}
AXE = Axe()


def blocking_violations(page, what):
    """axe-core's serious and critical violations on the page as it is now, one line each, with the
    elements that fail."""
    width = page.viewport_size["width"]
    return [f"{what} at {width} px: {violation['id']} ({violation['impact']}): {violation['help']}; failing: "
            + ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
            for violation in AXE.run(page).response["violations"] if violation["impact"] in BLOCKING]


@pytest.fixture
def catalogue_in_use(served, imported_catalogue, owner, staff):
    """Two listings categorized in the background as an upload's are; staff decided the carrots'
    item (the Quality page has a row), the banana's waits on the review queue. The seller has an
    API token."""
    bananas = listing_of(owner, "Bananas", grocery_images("val", "Fruit/Banana", 1)[0])
    listing_of(owner, "Carrots", grocery_images("val", "Vegetables/Carrots", 1)[0])
    assert embedded.wait_idle(SETTLE_MS / 1000)
    carrots = Item.objects.filter(photo__listing__title="Carrots").first()
    decide(carrots, carrots.category or carrots.predicted_category, staff)
    ApiToken.objects.issue(owner, "stock sync")
    return bananas


def check_seller_pages(page, served, owner, listing):
    found = []
    for what, path in (("landing", "/"), ("log in", "/login/")):
        page.goto(served + path)
        found += blocking_violations(page, what)
    log_in(page, served, owner)
    for what, path in (("my listings", "/"), ("new listing", "/listings/new/"),
                       ("listing", f"/listings/{listing.uuid}/"), ("API tokens", "/settings/api-tokens/"),
                       ("account", "/settings/account/")):
        page.goto(served + path)
        found += blocking_violations(page, what)

    page.goto(served + "/listings/new/")
    page.locator("#upload-form").evaluate("form => { form.noValidate = true; }")  # the server's errors
    page.get_by_role("button", name="Upload and categorize").click()
    expect(page.locator("#id_photos_error")).to_be_visible()
    found += blocking_violations(page, "new listing refused")

    page.goto(served + f"/listings/{listing.uuid}/")
    page.get_by_text("Edit this listing").click()
    page.get_by_label("Category", exact=True).fill("No such category")
    page.get_by_role("button", name="category").click()
    expect(page.locator("#choose-category-error")).to_be_visible()
    found += blocking_violations(page, "listing with a refused category")

    page.goto(served + "/settings/api-tokens/")
    page.get_by_label("Name").fill("price feed")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-key")).to_be_visible()
    expect(page.locator("#new-key-notice")).to_be_focused()  # read out first: it is shown only once
    found += blocking_violations(page, "API tokens with a new key")
    return found


def check_staff_pages(page, served, staff):
    found = []
    log_in(page, served, staff, STAFF_PASSWORD)
    page.goto(served + "/review/")
    expect(page.locator("article.review-item")).to_have_count(1)
    found += blocking_violations(page, "review queue")
    page.goto(served + "/review/?since=not-a-date")
    found += blocking_violations(page, "review queue with a filter refused")
    page.goto(served + "/review/quality/")
    found += blocking_violations(page, "quality")
    return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_page_has_a_serious_accessibility_violation(served, catalogue_in_use, owner, staff, chromium, viewport):
    found = []
    for check, user in ((check_seller_pages, owner), (check_staff_pages, staff)):
        context = chromium.new_context(viewport=viewport)
        context.set_default_timeout(20_000)
        page = context.new_page()
        found += check(page, served, user, catalogue_in_use) if user == owner else check(page, served, user)
        context.close()
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_the_first_tab_offers_to_skip_to_the_main_content(served, page):
    page.goto(served + "/")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Create a seller account")).to_be_focused()

    page.goto(served + "/login/")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_have_attribute(
        "aria-current", "page")
