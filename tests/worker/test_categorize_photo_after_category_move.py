"""Staff move a category in the admin: the next photo the worker categorizes follows the tree as it
is now, its heatmap's label too (the heatmap head knew categories by their old paths until the
index was next compacted, up to an hour later)."""

import pytest

from catalog.models import Category, Item
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ada", password="a-long-password-4"))
    return client


def test_the_next_photos_heatmap_is_labelled_with_the_moved_path(banana_photo, imported_catalogue, admin_client,
                                                                   settings, django_capture_on_commit_callbacks):
    settings.CATALOG_SEGMENTER = ""
    fruit = Category.objects.get(path="Fruit")
    produce = Category.objects.get_or_create_path(["Fresh produce"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/catalog/category/{fruit.pk}/change/",
                                     {"name": "Fruit", "parent": produce.pk})
    assert response.status_code == 302

    categorize_photo(banana_photo.id)

    item = Item.objects.get()
    assert item.category.path == "Fresh produce > Fruit > Banana"
    assert item.heatmap_of == item.category
    assert item.shown_heatmap_category == "Fresh produce > Fruit > Banana"
