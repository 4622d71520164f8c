"""Every page tells one story about an answer: what the model said, what was decided since, and
who decided it (issue 34's six contradictions, each as a staff member or a seller saw it)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Category, Item, Listing, Outcome, ReviewDecision
from tests.browser.conftest import log_in

STAFF_PASSWORD = "a-long-password-3"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_page(served, staff, page):
    log_in(page, served, staff, STAFF_PASSWORD)
    return page


def card(page):
    return page.locator("article.review-item").first


def test_accepted_automatically_is_never_shown_with_a_risk(served, staff_page, make_item):
    make_item("Fruit > Apple > Pink-Lady", 0.85, outcome=Outcome.ACCEPTED, accepted_depth=3, calibrated=True,
              risk=0.15, predicted_path="Fruit > Apple > Pink-Lady")
    staff_page.goto(served + "/review/?review=pending")
    expect(card(staff_page)).to_contain_text("Accepted automatically")
    expect(card(staff_page)).not_to_contain_text("risk")


def test_an_answer_at_a_parent_says_what_was_accepted_and_what_needs_review(served, staff_page, make_item):
    item = make_item("Fruit > Apple > Pink-Lady", 0.8, outcome=Outcome.ACCEPTED_AT_PARENT, accepted_depth=2,
                     calibrated=True, risk=0.2, predicted_path="Fruit > Apple > Pink-Lady")
    item.confidences = [0.999, 0.99, 0.8]
    item.save()
    staff_page.goto(served + "/review/?review=pending")
    expect(card(staff_page)).to_contain_text("Accepted as Fruit > Apple; the finer category needs review.")
    # Of the best guess, what staff are asked to decide and what the queue is ordered by; not of the
    # level accepted (1 %).
    expect(card(staff_page)).to_contain_text("risk 20%")


def test_no_risk_is_shown_for_an_item_that_is_not_in_the_catalogue(served, staff_page, make_item):
    make_item(None, outcome=Outcome.NOT_IN_CATALOGUE, calibrated=True, risk=0.78,
              predicted_path="Fruit > Apple > Pink-Lady")
    staff_page.goto(served + "/review/?review=pending")
    expect(card(staff_page)).to_contain_text("Not in the catalogue")
    expect(card(staff_page)).not_to_contain_text("risk")


def test_after_not_in_the_catalogue_the_listing_no_longer_shows_the_old_category(served, staff_page, make_item,
                                                                                listing, owner, staff,
                                                                                browser_context):
    """Staff set the item aside; until a worker decides the listing again (a task on a busy queue,
    or one whose message was lost), neither page may show the category staff just set aside."""
    banana = make_item("Fruit > Banana", 0.99, outcome=Outcome.ACCEPTED, accepted_depth=2, calibrated=True,
                       predicted_path="Fruit > Banana")
    Listing.objects.filter(pk=listing.pk).update(category=banana.category, decided_lineage=banana.decided_lineage,
                                                 confidences=[0.99, 0.99], outcome=Outcome.ACCEPTED, accepted_depth=2,
                                                 decided=timezone.now())
    ReviewDecision.objects.create(item=banana, reviewer=staff, action=ReviewDecision.Action.NOT_IN_CATALOGUE,
                                  old_category=banana.category)
    Item.objects.filter(pk=banana.pk).update(category=None, review=Item.Review.NOT_IN_CATALOGUE)

    staff_page.goto(served + "/review/?review=")
    expect(card(staff_page).locator(".listing-line")).not_to_contain_text("Banana")
    seller = browser_context.browser.new_context().new_page()
    log_in(seller, served, owner)
    seller.goto(f"{served}/listings/{listing.uuid}/")
    expect(seller.locator("#listing-decision")).not_to_contain_text("Banana")
    expect(seller.locator("#listing-decision")).not_to_contain_text("Accepted automatically")
    seller.context.close()


def test_after_a_correction_the_evidence_is_marked_as_what_the_model_had_said(served, staff_page, make_item):
    make_item("Fruit > Apple > Pink-Lady", 0.9, outcome=Outcome.ACCEPTED, accepted_depth=3, calibrated=True,
              predicted_path="Fruit > Apple > Pink-Lady", heatmap_category="Fruit > Apple > Pink-Lady",
              alternatives=[{"path": "Fruit > Apple > Royal-Gala", "category": None, "confidence": 0.1}])
    Category.objects.get_or_create_path(["Fruit", "Pear"])
    staff_page.goto(served + "/review/?review=pending")
    card(staff_page).get_by_label("Correct category").fill("Fruit > Pear")
    card(staff_page).get_by_role("button", name="Correct").click()
    staff_page.goto(served + "/review/?review=")
    expect(card(staff_page).locator(".path")).to_contain_text("Pear")
    said = card(staff_page).locator(".model-said")
    expect(said).to_contain_text("What the model had said")
    expect(said).to_contain_text("Best guess: Fruit > Apple > Pink-Lady")
    expect(said).to_contain_text("Accepted automatically")  # the model's outcome, inside what it had said
    expect(card(staff_page).locator(".path")).not_to_contain_text("Pink-Lady")


def test_best_guess_runners_up_and_heatmap_agree_on_what_the_model_chose(served, staff_page, make_item):
    make_item("Fruit > Apple", 0.9, outcome=Outcome.NEEDS_REVIEW, calibrated=True,
              predicted_path="Fruit > Apple > Pink-Lady", heatmap_category="Fruit > Apple > Royal-Gala",
              alternatives=[{"path": "Fruit > Apple > Pink-Lady", "category": None, "confidence": 0.5},
                            {"path": "Fruit > Apple > Royal-Gala", "category": None, "confidence": 0.4}])
    staff_page.goto(served + "/review/?review=pending")
    text = card(staff_page).inner_text()
    assert "Best guess: Fruit > Apple > Pink-Lady" in text
    runners_up = next(line for line in text.splitlines() if line.startswith("Also possible"))
    assert "Pink-Lady" not in runners_up  # the best guess is not its own runner-up
    heatmap = next(line for line in text.splitlines() if line.startswith("Heatmap of"))
    assert "Pink-Lady" in heatmap or "ranked below its best guess" in heatmap


def test_who_chose_is_worded_alike_for_the_seller_and_for_staff(served, staff_page, make_item, listing, owner,
                                                                 browser_context):
    make_item("Fruit > Banana", 0.6, outcome=Outcome.NEEDS_REVIEW, calibrated=True, predicted_path="Fruit > Banana")
    plantain = Category.objects.get_or_create_path(["Fruit", "Plantain"])
    Listing.objects.filter(pk=listing.pk).update(category=plantain, category_chosen=True,
                                                 outcome=Outcome.CHOSEN_BY_SELLER)
    staff_page.goto(served + "/review/?review=pending")
    staff_words = card(staff_page).locator(".listing-line .badge").inner_text()

    seller = browser_context.browser.new_context().new_page()
    log_in(seller, served, owner)
    seller.goto(f"{served}/listings/{listing.uuid}/")
    seller_words = seller.locator("#listing-decision .badge").first.inner_text()
    seller.context.close()
    assert staff_words == seller_words == "Chosen by the seller"
