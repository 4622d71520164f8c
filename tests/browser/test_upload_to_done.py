"""A new seller signs up, uploads photos with the file input, and watches them categorized: the
upload is answered at once (photos are categorized in the background, as bin/run serves the app)
and the listing page's live status turns each photo to done with its category."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, SETTLE_MS
from tests.photos import grocery_images


def test_sign_up_upload_and_watch_photos_to_done(served, imported_catalogue, page, screenshot):
    page.goto(served)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your product photos, in the right category")
    screenshot(page, "0-landing")
    page.get_by_role("link", name="Create a seller account").click()
    page.get_by_label("Username").fill("sam")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_contain_text("sam")

    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Title").fill("Fruit box")
    photos = grocery_images("val", "Fruit/Banana", 2) + grocery_images("val", "Vegetables/Carrots", 1)
    page.locator("input[type=file]").set_input_files(photos)
    expect(page.locator("#chosen-files li")).to_have_count(3)
    screenshot(page, "1-chosen")
    page.get_by_role("button", name="Upload and categorize").click()

    # Answered before the photos are categorized: the page says so, then follows them to done.
    page.wait_for_url(re.compile(r"/listings/[0-9a-f-]+/$"))
    expect(page.get_by_text("Finding the category…").first).to_be_visible()
    screenshot(page, "2-processing")
    expect(page.locator(".badge.done")).to_have_count(3, timeout=SETTLE_MS)
    expect(page.locator(".photo-card .path").first).to_contain_text("›")
    screenshot(page, "3-done")
