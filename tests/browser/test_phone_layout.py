"""Every page fits a phone's screen (390 px wide): nothing scrolls sideways."""

import pytest

from tests.browser.conftest import PHONE, log_in
from worker.tasks import categorize_photo

STAFF_PASSWORD = "a-long-password-3"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()


def sideways_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def check_pages(page, served, paths, screenshot):
    for name, path in paths.items():
        page.goto(served + path)
        screenshot(page, name)
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at {PHONE['width']} px"


def test_no_page_scrolls_sideways_on_a_phone(served, imported_catalogue, banana_photo, staff, phone, screenshot):
    categorize_photo(banana_photo.id)
    listing = banana_photo.listing
    visitor = phone.new_page()
    check_pages(visitor, served, {"landing": "/", "signup": "/signup/", "login": "/login/"}, screenshot)

    log_in(visitor, served, listing.seller)
    check_pages(visitor, served, {"listings": "/", "new-listing": "/listings/new/",
                                  "listing": f"/listings/{listing.uuid}/", "api-tokens": "/settings/api-tokens/"},
                screenshot)

    reviewer = phone.browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    log_in(reviewer, served, staff, STAFF_PASSWORD)
    check_pages(reviewer, served, {"review": "/review/?review="}, screenshot)
    reviewer.context.close()
