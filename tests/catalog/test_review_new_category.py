import pytest
from django.test import Client

from catalog.models import Category, ReferenceImage, ReviewDecision

pytestmark = pytest.mark.django_db


def test_staff_make_a_new_category_from_an_item_and_it_is_its_first_reference(staff_client, staff, make_item):
    item = make_item(None, outcome="not_in_catalogue")
    Category.objects.get_or_create_path(["Fruit"])
    response = staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Fruit > Dragon fruit"},
                                 follow=True)
    assert "Made the category Fruit &gt; Dragon fruit" in response.content.decode()
    item.refresh_from_db()
    assert item.category.path == "Fruit > Dragon fruit" and item.review == "corrected"
    decision = ReviewDecision.objects.get()
    assert decision.action == "new_category" and decision.reviewer == staff and decision.old_category is None
    assert ReferenceImage.objects.get().category == item.category


def test_a_path_typed_as_the_pages_show_it_makes_the_category_under_its_parent(staff_client, make_item):
    item = make_item(None, outcome="not_in_catalogue")
    Category.objects.get_or_create_path(["Fruit"])
    staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Fruit › Kiwi"})
    item.refresh_from_db()
    assert item.category.path == "Fruit > Kiwi" and item.category.parent.path == "Fruit"
    assert not Category.objects.filter(name__contains="›").exists()


def test_a_new_top_level_category_needs_no_parent(staff_client, make_item):
    item = make_item(None)
    staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Toys"})
    assert Category.objects.get(path="Toys").parent is None


def test_a_category_that_exists_or_a_missing_parent_is_refused_and_nothing_changes(staff_client, make_item):
    item = make_item("Fruit > Banana")
    existing = staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Fruit > Banana"}, follow=True)
    assert "already exists; choose it with Correct" in existing.content.decode()
    orphan = staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Toys > Robots"}, follow=True)
    assert "There is no category “Toys” to put “Robots” under" in orphan.content.decode()
    empty = staff_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Fruit >  > Kiwi"}, follow=True)
    assert "none of them empty" in empty.content.decode()
    item.refresh_from_db()
    assert item.category.path == "Fruit > Banana" and not ReviewDecision.objects.exists()
    assert not Category.objects.filter(path__in=["Toys", "Toys > Robots"]).exists()


def test_a_seller_is_refused_and_an_anonymous_visitor_sent_to_log_in(owner_client, make_item):
    item = make_item(None)
    assert owner_client.post(f"/review/items/{item.uuid}/new-category", {"path": "Toys"}).status_code == 403
    response = Client().post(f"/review/items/{item.uuid}/new-category", {"path": "Toys"})
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert not Category.objects.filter(path="Toys").exists()


def test_a_category_made_by_another_reviewer_since_the_form_was_checked_is_refused(make_item, staff):
    # Two reviewers making the same category at once: the second's unique path was a 500.
    from catalog.models import Category
    from catalog.review import CategoryExists, new_category

    item = make_item("Fruit > Banana")
    fruit = Category.objects.get(path="Fruit")
    Category.objects.create(parent=fruit, name="Plantain")  # the other reviewer's, just made
    with pytest.raises(CategoryExists, match="Fruit > Plantain was made a moment ago"):
        new_category(item, fruit, "Plantain", staff)
    item.refresh_from_db()
    assert item.category.path == "Fruit > Banana" and not item.decisions.exists()
