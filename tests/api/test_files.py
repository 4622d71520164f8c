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


def test_the_listing_gives_each_photos_display_thumbnail_and_original_urls(api, listing):
    photo = api.get(f"/api/v1/listings/{listing.uuid}/").json()["photos"][0]
    shown, thumbnail, original = (api.get(photo[name]) for name in ("image_url", "thumbnail_url", "original_url"))
    assert [r["Content-Type"] for r in (shown, thumbnail, original)] == ["image/jpeg", "image/jpeg", "image/png"]


def test_an_unknown_photo_size_is_a_problem(api, listing):
    response = api.get(f"/api/v1/photos/{listing.photos.get().uuid}/image?size=huge")
    assert response.status_code == 400 and "display, thumbnail, original" in response.json()["detail"]
