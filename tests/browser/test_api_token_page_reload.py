"""Reloading the API tokens page after creating a token shows the page again: no second token, and
the key is not shown again."""

from playwright.sync_api import expect

from tests.browser.conftest import log_in


def test_reloading_after_creating_a_token_creates_no_other(served, owner, page, screenshot):
    log_in(page, served, owner)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("stock sync")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-key")).to_be_visible()
    screenshot(page, "1-created")

    page.reload()

    expect(page.get_by_role("row")).to_have_count(2)  # the header and the one token
    expect(page.locator("#new-key")).to_have_count(0)
    assert owner.api_tokens.count() == 1
