"""Staff move a category in the admin; the seller's listing page then shows the moved path, leaf
and confidences included."""

import re

from playwright.sync_api import expect

from catalog.models import Category
from tests.browser.conftest import log_in
from worker.tasks import categorize_photo

ADMIN_PASSWORD = "a-long-password-4"


def test_the_seller_page_is_still_right_after_staff_move_a_category(served, imported_catalogue, banana_photo,
                                                                    django_user_model, browser_context,
                                                                    chromium, screenshot):
    categorize_photo(banana_photo.id)
    Category.objects.get_or_create_path(["Fresh produce"])
    admin = django_user_model.objects.create_superuser("ada", password=ADMIN_PASSWORD)

    staff_page = browser_context.new_page()
    log_in(staff_page, served, admin, ADMIN_PASSWORD)
    staff_page.goto(served + "/admin/catalog/category/")
    staff_page.get_by_role("link", name="Fruit", exact=True).click()
    # The parent is picked with the admin's autocomplete: open it, type, choose.
    staff_page.locator(".field-parent .select2-selection").click()
    staff_page.locator(".select2-search__field").fill("Fresh")
    staff_page.locator(".select2-results__option", has_text="Fresh produce").click()
    screenshot(staff_page, "1-admin-move")
    staff_page.get_by_role("button", name="Save", exact=True).click()
    expect(staff_page.locator(".messagelist")).to_contain_text("was changed successfully")

    seller = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(seller, served, banana_photo.listing.seller)
    seller.goto(f"{served}/listings/{banana_photo.listing.uuid}/")
    main_item = seller.locator(".photo-card .path").first
    # After the path, what the percentages mean, for screen readers (templates/catalog/_levels.html).
    expect(main_item).to_have_text(
        re.compile(r"^\s*(1\s+)?Fresh produce › Fruit \d+% › Banana \d+%\s*\(percentages: [^)]*\)\s*$"))
    expect(seller.locator("#listing-decision")).to_contain_text("Fresh produce › Fruit")
    screenshot(seller, "2-seller-page")
    seller.context.close()
