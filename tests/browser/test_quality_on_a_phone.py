"""The Quality page on a phone (390 px): every table keeps its column headers, every column has
one, nothing scrolls sideways, and weeks without decisions are not drawn."""

import pytest

from catalog.models import Category, Outcome
from catalog.review import decide
from tests.browser.conftest import PHONE, log_in

STAFF_PASSWORD = "a-long-password-3"


@pytest.fixture
def decided(make_item, staff):
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    for path, outcome, audit, decided_path in (
            ("Fruit > Banana", Outcome.ACCEPTED, True, "Fruit > Banana"),
            ("Fruit > Apple > Pink-Lady", Outcome.ACCEPTED_AT_PARENT, True, "Fruit > Plantain"),
            ("Vegetables > Carrots", Outcome.NEEDS_REVIEW, False, "Fruit > Plantain")):
        item = make_item(path, outcome=outcome, accepted_depth=2 if outcome != Outcome.NEEDS_REVIEW else 0,
                         predicted_path=path, audit=audit)
        decide(item, Category.objects.get(path=decided_path), staff)
    make_item("Vegetables > Leek")  # waiting


def test_the_quality_page_keeps_its_headers_on_a_phone(served, decided, staff, chromium, screenshot):
    page = chromium.new_context(viewport=PHONE, is_mobile=True).new_page()
    log_in(page, served, staff, STAFF_PASSWORD)
    page.goto(served + "/review/quality/")
    screenshot(page, "quality")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    tables = page.locator("table")
    assert tables.count() == 6  # no threshold raised yet: that table is not drawn
    for i in range(tables.count()):
        table = tables.nth(i)
        headers = table.locator("thead th")
        assert headers.count() and all(headers.nth(h).is_visible() and headers.nth(h).inner_text().strip()
                                       for h in range(headers.count()))
        for row in range(table.locator("tbody tr").count()):
            assert table.locator("tbody tr").nth(row).locator("td").count() == headers.count()
    weeks = page.locator("#by-week tbody tr")
    assert weeks.count() == 1 and weeks.first.locator("td").nth(1).inner_text() == "3"
    page.context.close()
