"""An item's admin page shows its paths as the tree is now: after a category was moved it showed the
model's best guess and its heatmap's category at paths that no longer exist."""

import pytest

from catalog.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ada", password="a-long-password-4"))
    return client


def test_the_item_page_shows_the_moved_paths(admin_client, make_item):
    orange = Category.objects.get_or_create_path(["Citrus", "Orange"])
    item = make_item("Citrus > Lemon", predicted_path=orange.path, predicted_category=orange,
                     heatmap_category=orange.path, heatmap_of=orange)
    citrus = Category.objects.get(path="Citrus")
    citrus.parent = Category.objects.get_or_create_path(["Fruit"])
    citrus.save()

    response = admin_client.get(f"/admin/catalog/item/{item.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200 and 'name="box"' in page
    assert page.count('<div class="readonly">Fruit &gt; Citrus &gt; Orange</div>') == 2  # predicted, heatmap's
    assert '<div class="readonly">Citrus &gt; Orange</div>' not in page
    assert 'name="predicted_path"' not in page and 'name="heatmap_category"' not in page
