"""An audit card in the review queue: labelled blind, the model's answer shown once staff chose."""

import re

import pytest

from catalog.models import Category, Item, Outcome
from catalog.review import set_aside

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(make_item):
    return make_item("Fruit > Apple > Pink-Lady", 0.97, outcome=Outcome.ACCEPTED, accepted_depth=3, audit=True,
                     predicted_path="Fruit > Apple > Pink-Lady", risk=0.03,
                     alternatives=[{"path": "Fruit > Apple > Royal-Gala", "category": None, "confidence": 0.02}],
                     neighbours=[{"reference": "6f1c1d43-05b5-4a53-9a8e-6c3c1a6c1b7e",
                                  "path": "Fruit > Apple > Pink-Lady", "similarity": 0.8}])


def test_an_audit_comes_first_and_hides_the_models_answer_until_staff_chose(staff_client, make_item, audited):
    make_item("Vegetables > Leek", 0.4, outcome=Outcome.NEEDS_REVIEW, risk=0.6)
    cards = staff_client.get("/review/").content.decode().split('class="photo-card review-item"')[1:]
    card = cards[0]
    assert "Choose this product's category yourself" in card and "Leek" in cards[1]
    for answer in ("Pink-Lady", "Royal-Gala", "Accepted automatically", "risk 3%", "/references/", ">Accept<"):
        assert answer not in card
    assert ">Choose<" in card

    Category.objects.get_or_create_path(["Fruit", "Apple", "Royal-Gala"])
    response = staff_client.post(f"/review/items/{audited.uuid}/correct",
                                 {"category": "Fruit > Apple > Royal-Gala", "next": "/review/?review="})
    assert response.status_code == 302
    audited.refresh_from_db()
    assert audited.review == Item.Review.CORRECTED and audited.category.path == "Fruit > Apple > Royal-Gala"
    page = staff_client.get(response.url).content.decode()
    assert "Chosen: Fruit &gt; Apple &gt; Royal-Gala" in page
    assert "The model had accepted Fruit &gt; Apple &gt; Pink-Lady" in page
    page = staff_client.get("/review/", {"audit": "only", "review": ""}).content.decode()
    assert "The model had accepted Fruit &gt; Apple &gt; Pink-Lady" in page and "without seeing it" in page
    assert "1 item." in page
    # Decided again, seeing the model's answer: the note still says what was chosen blind.
    Category.objects.get_or_create_path(["Fruit", "Apple", "Pink-Lady"])
    staff_client.post(f"/review/items/{audited.uuid}/correct", {"category": "Fruit > Apple > Pink-Lady"})
    page = staff_client.get("/review/", {"audit": "only", "review": ""}).content.decode()
    assert "chose Fruit &gt; Apple &gt; Royal-Gala without seeing it" in page


def test_the_queue_filters_audits(staff_client, make_item, audited):
    make_item("Vegetables > Leek", outcome=Outcome.ACCEPTED)
    assert "1 item." in staff_client.get("/review/", {"audit": "only"}).content.decode()
    assert "1 item; 1 of them accepted whole" in staff_client.get("/review/", {"audit": "none"}).content.decode()


def test_an_audit_is_never_decided_by_accepting_the_hidden_answer(staff_client, make_item, audited):
    other = make_item("Vegetables > Leek", 0.4, outcome=Outcome.NEEDS_REVIEW, risk=0.6)
    cards = staff_client.get("/review/").content.decode().split('class="photo-card review-item"')[1:]
    assert 'name="items"' not in cards[0] and 'name="items"' in cards[1]  # no selecting an audit

    page = staff_client.post(f"/review/items/{audited.uuid}/accept", {"next": "/review/"}, follow=True).content.decode()
    assert "This item is an audit: choose its category yourself with Choose" in page
    page = staff_client.post("/review/bulk", {"action": "accept", "items": [str(audited.uuid), str(other.uuid)]},
                             follow=True).content.decode()
    assert "1 item accepted." in page and "1 audit left unchanged: choose each audit&#x27;s category" in page
    page = staff_client.post("/review/bulk", {"action": "accept", "items": [str(audited.uuid)]},
                             follow=True).content.decode()
    assert "1 audit left unchanged" in page and "items accepted" not in page
    audited.refresh_from_db()
    assert audited.review == Item.Review.PENDING and not audited.decisions.exists()


def test_the_admin_shows_a_waiting_audit_nowhere_and_never_lets_an_audit_be_unticked(admin_client, audited,
                                                                                        staff):
    # Its list and its page would show the model's answer (and its page would let it be unticked).
    assert "Pink-Lady" not in admin_client.get("/admin/catalog/item/").content.decode()
    assert admin_client.get(f"/admin/catalog/item/{audited.pk}/change/", follow=True).redirect_chain
    set_aside(audited, "not_in_catalogue", staff)
    response = admin_client.get(f"/admin/catalog/item/{audited.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200 and 'name="box"' in page  # the item's form, its other fields editable
    assert 'name="audit"' not in page and 'name="outcome"' not in page


def test_filters_by_what_the_model_said_leave_waiting_audits_out(staff_client, audited):
    for query in ({"category": "Pink-Lady"}, {"outcome": "accepted"}, {"band": "certain"}):
        page = staff_client.get("/review/", query).content.decode()
        assert "0 items." in page and "Not among them: 1 waiting audit, which filters" in page, query
    assert "Not among them" not in staff_client.get("/review/", {"seller": "olivia"}).content.decode()
    page = staff_client.get("/review/", {"outcome": "accepted", "seller": "nobody"}).content.decode()
    assert "Not among them" not in page  # that seller has no audit waiting
    assert "1 item." in staff_client.get("/review/", {"audit": "only"}).content.decode()


def test_the_other_cards_and_admin_pages_of_its_listing_do_not_give_the_answer_away(staff_client, admin_client,
                                                                                   make_item, audited, listing):
    # The listing's category is usually the audited item's answer.
    listing.category = audited.category
    listing.outcome = "accepted"
    listing.save()
    make_item("Fruit > Pear", 0.5, outcome=Outcome.NEEDS_REVIEW, predicted_path="Fruit > Pear")
    page = staff_client.get("/review/").content.decode()
    lines = re.findall(r'<p class="listing-line">(.*?)</p>', page, re.S)
    assert len(lines) == 1 and "hidden while one of its items waits for a blind audit" in lines[0]
    assert "Pink-Lady" not in lines[0]
    listing_page = admin_client.get(f"/admin/catalog/listing/{listing.pk}/change/").content.decode()
    assert "Pink-Lady" not in listing_page
