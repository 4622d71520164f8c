import pytest
from django.test import Client

from catalog.models import ReferenceImage, ReviewDecision

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url, review", [("not-in-catalogue", "not_in_catalogue"), ("not-a-product", "not_a_product")])
def test_staff_set_an_item_aside_and_it_loses_its_category(staff_client, staff, make_item, url, review):
    item = make_item("Fruit > Banana", 0.7)
    response = staff_client.post(f"/review/items/{item.uuid}/{url}", follow=True)
    assert "it has no category and is never a reference" in response.content.decode()
    item.refresh_from_db()
    assert item.category is None and item.review == review
    decision = ReviewDecision.objects.get()
    assert decision.action == review and decision.old_category.path == "Fruit > Banana"
    assert decision.new_category is None and decision.reviewer == staff
    assert not ReferenceImage.objects.exists()


def test_a_reference_an_earlier_accept_made_is_removed(staff_client, make_item):
    item = make_item("Fruit > Banana")
    staff_client.post(f"/review/items/{item.uuid}/accept")
    assert ReferenceImage.objects.filter(source="review").exists()
    staff_client.post(f"/review/items/{item.uuid}/not-a-product")
    assert not ReferenceImage.objects.exists()


def test_the_listing_follows_what_staff_decided(staff_client, owner_client, make_item,
                                               django_capture_on_commit_callbacks):
    item = make_item("Fruit > Banana", 0.6)
    listing = item.photo.listing

    def review(action, **data):
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(f"/review/items/{item.uuid}/{action}", data)
        listing.refresh_from_db()

    review("not-in-catalogue")
    assert listing.outcome == "not_in_catalogue" and listing.category is None
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    # Staff's answer, not the model's promise that staff will find it a category.
    assert page.count("Catalogue staff found nothing in the catalogue for this.") == 2  # the listing and its item
    assert "find it a category" not in page
    review("correct", category="Fruit > Banana")
    assert listing.outcome == "reviewed" and listing.category.path == "Fruit > Banana"
    assert "Chosen by staff" in owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    review("not-a-product")
    assert listing.outcome == "not_a_product" and listing.category is None


@pytest.mark.parametrize("url", ["not-in-catalogue", "not-a-product"])
def test_a_seller_is_refused_and_an_anonymous_visitor_sent_to_log_in(owner_client, make_item, url):
    item = make_item()
    assert owner_client.post(f"/review/items/{item.uuid}/{url}").status_code == 403
    response = Client().post(f"/review/items/{item.uuid}/{url}")
    assert response.status_code == 302 and response.url.startswith("/login/")
    item.refresh_from_db()
    assert item.review == "pending" and not ReviewDecision.objects.exists()
