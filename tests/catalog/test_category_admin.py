"""Staff create, rename and move categories in the admin; the tree stays consistent."""

import pytest

from catalog.models import Category, Item, ReferenceImage, ThresholdChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ada", password="a-long-password-4"))
    return client


def _change(admin_client, category, **data):
    fields = {"name": category.name, "parent": category.parent_id or ""} | data
    return admin_client.post(f"/admin/catalog/category/{category.pk}/change/", fields)


def test_staff_create_a_category_under_another(admin_client):
    fruit = Category.objects.get_or_create_path(["Fruit"])
    response = admin_client.post("/admin/catalog/category/add/", {"name": "Plantain", "parent": fruit.pk})
    assert response.status_code == 302
    assert Category.objects.get(name="Plantain").path == "Fruit > Plantain"


def test_renaming_a_category_renames_its_whole_subtree(admin_client, make_item):
    item = make_item("Fruit > Apple > Granny-Smith")
    assert _change(admin_client, Category.objects.get(path="Fruit"), name="Fresh fruit").status_code == 302
    assert set(Category.objects.values_list("path", flat=True)) == {
        "Fresh fruit", "Fresh fruit > Apple", "Fresh fruit > Apple > Granny-Smith"}
    assert Item.objects.get(pk=item.pk).category.path == "Fresh fruit > Apple > Granny-Smith"


def test_a_renamed_top_level_category_keeps_the_thresholds_audits_raised(admin_client):
    fruit = Category.objects.get_or_create_path(["Fruit"])
    ThresholdChange.objects.create(top_level="Fruit", depth=2, target_precision=0.98, old_threshold=0.8,
                                   new_threshold=0.93, calibration_answers=100, audited=10, audited_right=7,
                                   reason="Audits below the target")
    _change(admin_client, fruit, name="Fresh fruit")
    assert ThresholdChange.in_force(0.98, "") == {("Fresh fruit", 2): 0.93}  # not back to the calibration's


def test_moving_a_category_moves_its_subtree_and_its_references(admin_client, make_item):
    make_item("Fruit > Apple > Granny-Smith")
    vegetables = Category.objects.get_or_create_path(["Vegetables"])
    apple = Category.objects.get(path="Fruit > Apple")
    ReferenceImage.objects.create(category=apple.children.get(), source="import", source_key="k", image="x.jpg")
    assert _change(admin_client, apple, parent=vegetables.pk).status_code == 302
    assert ReferenceImage.objects.get().category.path == "Vegetables > Apple > Granny-Smith"
    assert Category.objects.get(path="Fruit").children.count() == 0


def test_a_category_cannot_move_under_its_own_subcategory(admin_client):
    granny_smith = Category.objects.get_or_create_path(["Fruit", "Apple", "Granny-Smith"])
    fruit = Category.objects.get(path="Fruit")
    response = _change(admin_client, fruit, parent=granny_smith.pk)
    assert "cannot be moved under itself" in response.content.decode()
    assert Category.objects.get(pk=fruit.pk).path == "Fruit"


def test_two_sibling_categories_cannot_share_a_name(admin_client):
    Category.objects.get_or_create_path(["Fruit", "Apple"])
    banana = Category.objects.get_or_create_path(["Fruit", "Banana"])
    response = _change(admin_client, banana, name="Apple")
    assert response.status_code == 200 and Category.objects.get(pk=banana.pk).name == "Banana"


def test_a_category_in_use_cannot_be_deleted(admin_client, make_item):
    item = make_item("Fruit > Banana")
    response = admin_client.post(f"/admin/catalog/category/{item.category.pk}/delete/", {"post": "yes"})
    assert Category.objects.filter(pk=item.category.pk).exists() and response.status_code == 200


def test_sellers_cannot_reach_the_admin(owner_client):
    response = owner_client.get("/admin/catalog/category/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_the_category_list_counts_references_and_items_in_one_query(admin_client, make_item):
    make_item("Fruit > Banana")
    make_item("Fruit > Banana")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/catalog/category/")
    for number in range(5):
        make_item(f"Vegetables > Leek {number}")
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get("/admin/catalog/category/")
    assert len(many) == len(few), "two queries a category"
    banana = page.content.decode().split("Fruit &gt; Banana", 1)[1].split("</tr>", 1)[0]
    assert ">0<" in banana and ">2<" in banana  # no references, two items


def test_a_category_a_review_decision_records_is_refused_as_in_use_not_for_want_of_permission(admin_client,
                                                                                             make_item, staff):
    """Staff were told their account lacked the permission to delete review decisions, as if another
    account could: decisions are the record, and the category they name stays."""
    from catalog.models import ReviewDecision

    item = make_item("Fruit > Banana")
    banana, plantain = item.category, Category.objects.get_or_create_path(["Fruit", "Plantain"])
    ReviewDecision.objects.create(item=item, reviewer=staff, action="corrected", old_category=banana,
                                  new_category=plantain)
    Item.objects.filter(pk=item.pk).update(category=plantain)

    for response in (admin_client.post(f"/admin/catalog/category/{banana.pk}/delete/", {"post": "yes"}),
                     admin_client.post("/admin/catalog/category/", {"action": "delete_selected", "post": "yes",
                                                                    "_selected_action": [banana.pk]})):
        page = response.content.decode()
        assert response.status_code == 200 and Category.objects.filter(pk=banana.pk).exists()
        assert "permission" not in page
        assert "stella corrected Fruit &gt; Plantain" in page  # what keeps it
        assert "rename or move it instead" in page


def test_a_second_top_level_category_of_a_name_is_refused_in_words(admin_client):
    """Staff were told “Constraint “unique_top_level_name” is violated”."""
    Category.objects.get_or_create_path(["Apple"])
    apple = Category.objects.get_or_create_path(["Fruit", "Apple"])
    for response in (_change(admin_client, apple, parent=""),
                     admin_client.post("/admin/catalog/category/add/", {"name": "Apple", "parent": ""})):
        page = response.content.decode()
        assert response.status_code == 200 and "There is a top-level category “Apple” already." in page
        assert "unique_top_level_name" not in page
    assert Category.objects.get(pk=apple.pk).path == "Fruit > Apple"
