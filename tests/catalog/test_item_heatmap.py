import pytest
from django.core.files.base import ContentFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def item_with_heatmap(make_item):
    item = make_item()
    item.heatmap.save("heatmap.png", ContentFile(b"\x89PNG fake"), save=True)
    return item


def test_the_seller_gets_the_heatmap_of_their_item(owner_client, item_with_heatmap):
    response = owner_client.get(f"/items/{item_with_heatmap.uuid}/heatmap")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_staff_get_any_items_heatmap(staff_client, item_with_heatmap):
    assert staff_client.get(f"/items/{item_with_heatmap.uuid}/heatmap").status_code == 200


def test_another_seller_gets_404(outsider_client, item_with_heatmap):
    assert outsider_client.get(f"/items/{item_with_heatmap.uuid}/heatmap").status_code == 404


def test_an_item_without_a_heatmap_is_404(owner_client, make_item):
    assert owner_client.get(f"/items/{make_item().uuid}/heatmap").status_code == 404


def test_the_listing_page_offers_the_heatmap_toggle(owner_client, item_with_heatmap):
    page = owner_client.get(f"/listings/{item_with_heatmap.photo.listing.uuid}/").content.decode()
    assert f'href="/items/{item_with_heatmap.uuid}/heatmap"' in page and "Show what the model looked at" in page
