"""Every page fits a phone's screen (360 px wide, the narrowest the README promises): nothing
scrolls sideways, and no field's placeholder (its hint of what to type) is cut off."""

import pytest

from tests.browser.conftest import log_in
from worker.tasks import categorize_photo

STAFF_PASSWORD = "a-long-password-3"
NARROW_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=NARROW_PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()


# Each shown field whose placeholder is wider than the room inside it, as the browser draws it
# (panels that start closed are opened first: a seller opens them).
CUT_PLACEHOLDERS = """() => {
  document.querySelectorAll("details").forEach((panel) => { panel.open = true; });
  const pen = document.createElement("canvas").getContext("2d");
  const cut = [];
  for (const field of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (!field.offsetParent) continue;
    const style = getComputedStyle(field);
    pen.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const needed = pen.measureText(field.placeholder).width;
    if (needed > room + 1) {
      cut.push(`${field.name}: "${field.placeholder}" needs ${Math.ceil(needed)} px of ${Math.floor(room)}`);
    }
  }
  return cut;
}"""


def sideways_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def check_pages(page, served, paths, screenshot):
    for name, path in paths.items():
        page.goto(served + path)
        screenshot(page, name)
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at {page.viewport_size['width']} px"
        cut = page.evaluate(CUT_PLACEHOLDERS)
        assert cut == [], f"{path}: placeholders cut off: {cut}"


def test_no_page_scrolls_sideways_on_a_phone(served, imported_catalogue, banana_photo, staff, phone, screenshot):
    categorize_photo(banana_photo.id)
    listing = banana_photo.listing
    visitor = phone.new_page()
    check_pages(visitor, served, {"landing": "/", "signup": "/signup/", "login": "/login/"}, screenshot)

    log_in(visitor, served, listing.seller)
    check_pages(visitor, served, {"listings": "/", "new-listing": "/listings/new/",
                                  "listing": f"/listings/{listing.uuid}/", "api-tokens": "/settings/api-tokens/"},
                screenshot)

    reviewer = phone.browser.new_context(viewport=NARROW_PHONE, is_mobile=True).new_page()
    log_in(reviewer, served, staff, STAFF_PASSWORD)
    check_pages(reviewer, served, {"review": "/review/?review="}, screenshot)
    reviewer.context.close()
