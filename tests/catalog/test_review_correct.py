import pytest

from catalog.models import Category, ReferenceImage, ReviewDecision

pytestmark = pytest.mark.django_db


def test_staff_correct_an_item_and_it_becomes_a_reference_of_the_new_category(staff_client, staff, make_item):
    item = make_item("Fruit > Banana", 0.4)
    carrots = Category.objects.get_or_create_path(["Vegetables", "Carrots"])
    response = staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Vegetables > Carrots"},
                                 follow=True)
    assert "Corrected to Vegetables &gt; Carrots" in response.content.decode()
    item.refresh_from_db()
    assert item.category == carrots and item.review == "corrected"
    decision = ReviewDecision.objects.get()
    assert decision.old_category.path == "Fruit > Banana" and decision.new_category == carrots
    assert decision.reviewer == staff and decision.action == "corrected"
    assert ReferenceImage.objects.get().category == carrots


def test_correcting_to_the_category_it_has_is_said_to_be_an_accept(staff_client, make_item):
    item = make_item("Fruit > Banana", 0.4)
    response = staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Fruit > Banana"}, follow=True)
    assert "Accepted: Fruit &gt; Banana, the category it had" in response.content.decode()
    assert ReviewDecision.objects.get().action == "accepted"


def test_the_seller_sees_the_corrected_path_without_the_models_confidences(staff_client, owner_client, make_item):
    item = make_item("Fruit > Banana", 0.4)
    Category.objects.get_or_create_path(["Vegetables", "Carrots"])
    staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Vegetables > Carrots"})
    page = owner_client.get(f"/listings/{item.photo.listing.uuid}/").content.decode()
    assert "Carrots</span>" in page and "40%" not in page


def test_the_seller_is_told_of_the_correction_and_sees_no_evidence_for_the_old_answer(staff_client, owner_client,
                                                                                     make_item):
    plantain = Category.objects.get_or_create_path(["Fruit", "Plantain"])
    reference = ReferenceImage.objects.create(category=plantain, source="import", source_key="p", image="p.jpg")
    item = make_item("Fruit > Banana", 0.4, alternatives=[{"path": plantain.path, "category": plantain.pk,
                                                           "confidence": 0.3}],
                     neighbours=[{"reference": str(reference.uuid), "path": plantain.path, "similarity": 0.8}])
    Category.objects.get_or_create_path(["Vegetables", "Carrots"])
    page = owner_client.get(f"/listings/{item.photo.listing.uuid}/").content.decode()
    assert "Also possible: Fruit &gt; Plantain" in page and "Most similar reference images" in page

    staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Vegetables > Carrots"})

    page = owner_client.get(f"/listings/{item.photo.listing.uuid}/").content.decode()
    assert "Corrected by staff" in page and "changed the category from Fruit &gt; Banana" in page
    assert "Also possible" not in page and "Most similar reference images" not in page
    assert "Needs review" not in page


def test_an_unknown_category_is_refused_and_nothing_changes(staff_client, make_item):
    item = make_item("Fruit > Banana")
    response = staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Toys > Robots"}, follow=True)
    assert "There is no category “Toys &gt; Robots”" in response.content.decode()
    item.refresh_from_db()
    assert item.category.path == "Fruit > Banana" and item.review == "pending"
    assert not ReviewDecision.objects.exists() and not ReferenceImage.objects.exists()


def test_an_empty_category_is_refused(staff_client, make_item):
    response = staff_client.post(f"/review/items/{make_item().uuid}/correct", {"category": ""}, follow=True)
    assert "Choose the right category." in response.content.decode()


def test_a_seller_is_refused_and_nothing_changes(owner_client, make_item):
    item = make_item()
    response = owner_client.post(f"/review/items/{item.uuid}/correct", {"category": "Fruit > Banana"})
    assert response.status_code == 403 and not ReviewDecision.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, make_item):
    response = client.post(f"/review/items/{make_item().uuid}/correct", {"category": "Fruit > Banana"})
    assert response.status_code == 302 and response.url.startswith("/login/")
