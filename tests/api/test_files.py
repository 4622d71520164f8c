import pytest

pytestmark = pytest.mark.django_db


def test_the_seller_gets_the_photo_and_heatmap_files(api, make_item):
    item = make_item()
    item.heatmap.save("heatmap.png", item.photo.image.file, save=True)
    assert api.get(f"/api/v1/photos/{item.photo.uuid}/image").status_code == 200
    response = api.get(f"/api/v1/items/{item.uuid}/heatmap")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_another_seller_gets_404_for_both(outsider_api, make_item):
    item = make_item()
    item.heatmap.save("heatmap.png", item.photo.image.file, save=True)
    assert outsider_api.get(f"/api/v1/photos/{item.photo.uuid}/image").status_code == 404
    assert outsider_api.get(f"/api/v1/items/{item.uuid}/heatmap").status_code == 404


def test_an_item_without_a_heatmap_is_404(api, make_item):
    assert api.get(f"/api/v1/items/{make_item().uuid}/heatmap").status_code == 404
