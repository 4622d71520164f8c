"""A review card's action that is refused brings staff back to the message saying why, focused,
which names the item and links back to its card; one that is done moves on to the following card,
focused. Going on to the next card after a refusal would pass over the message."""

import re

from playwright.sync_api import expect

from catalog.models import Category, Outcome
from catalog.review import decide
from tests.browser.conftest import log_in

STAFF_PASSWORD = "a-long-password-3"


def test_a_refused_correction_lands_on_the_message_naming_the_item(served, staff, page, make_item):
    first = make_item("Fruit > Banana", 0.5, outcome=Outcome.NEEDS_REVIEW, risk=0.9)
    following = make_item("Fruit > Apple", 0.5, outcome=Outcome.NEEDS_REVIEW, risk=0.1)
    log_in(page, served, staff, STAFF_PASSWORD)
    page.goto(served + "/review/")
    card = page.locator(f"#item-{first.uuid}")
    expect(card).to_have_accessible_name("“Bananas” · banana.png")

    card.get_by_label("Correct category").fill("Fruit > Durian")  # there is none
    card.get_by_role("button", name="Correct", exact=True).click()
    expect(page).to_have_url(re.compile(r"/review/#messages$"))
    messages = page.locator("#messages")
    expect(messages).to_be_focused()
    expect(messages.get_by_role("alert")).to_contain_text("There is no category “Fruit > Durian”")
    expect(messages.get_by_role("alert")).to_contain_text("Item: “Bananas” · banana.png.")

    messages.get_by_role("link", name="Back to the item").click()
    expect(page).to_have_url(re.compile(rf"#item-{first.uuid}$"))
    expect(card).to_be_focused()

    # Done: on to the card that followed, as before.
    card.get_by_role("button", name="Accept", exact=True).click()
    expect(page).to_have_url(re.compile(rf"#item-{following.uuid}$"))
    expect(page.locator(f"#item-{following.uuid}")).to_be_focused()


def test_an_item_decided_meanwhile_is_named_and_no_link_leads_to_its_gone_card(served, staff, page, make_item,
                                                                              django_user_model):
    item = make_item("Fruit > Banana", 0.5, outcome=Outcome.NEEDS_REVIEW)
    log_in(page, served, staff, STAFF_PASSWORD)
    page.goto(served + "/review/")
    other = django_user_model.objects.create_user("rita", is_staff=True)
    decide(item, Category.objects.get_or_create_path(["Fruit", "Plantain"]), other)

    page.locator(f"#item-{item.uuid}").get_by_role("button", name="Not a product").click()
    expect(page).to_have_url(re.compile(r"/review/#messages$"))
    expect(page.locator("#messages")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("Nothing done: this item changed since the page was loaded")
    expect(page.get_by_role("alert")).to_contain_text("“Bananas” · banana.png")
    # Decided, it is no longer among the waiting items: no link to a card that is not there.
    expect(page.locator(f"#item-{item.uuid}")).to_have_count(0)
    expect(page.get_by_role("link", name="Back to the item")).to_have_count(0)
