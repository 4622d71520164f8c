import pytest

from catalog.models import Item, Photo

pytestmark = pytest.mark.django_db


def test_the_fragment_reports_pending_photos_for_live_updates(owner_client, listing):
    response = owner_client.get(f"/listings/{listing.uuid}/photos/")
    assert response.status_code == 200
    assert 'data-pending="true"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_fragment_stops_the_polling_once_every_photo_is_settled(owner_client, listing):
    listing.photos.update(status="done")
    assert 'data-pending="false"' in owner_client.get(f"/listings/{listing.uuid}/photos/").content.decode()


def test_an_outsider_gets_404(outsider_client, listing):
    assert outsider_client.get(f"/listings/{listing.uuid}/photos/").status_code == 404


def test_it_draws_a_numbered_box_for_each_item_of_a_photo(owner_client, listing):
    photo = listing.photos.get()
    Photo.objects.filter(pk=photo.pk).update(status="done", width=400, height=300)
    Item.objects.create(photo=photo, box=[10, 20, 110, 220], outline=[[[10, 20], [110, 20], [60, 220]]])
    Item.objects.create(photo=photo, box=[200, 30, 380, 280])
    page = owner_client.get(f"/listings/{listing.uuid}/photos/").content.decode()
    assert 'viewBox="0 0 400 300"' in page
    assert '<rect class="box" x="10" y="20" width="100" height="200"' in page
    assert '<rect class="box" x="200" y="30" width="180" height="250"' in page
    assert 'points="10,20 110,20 60,220 "' in page
    assert "2 items found in this photo." in page and '<span class="item-number">2</span>' in page


def test_an_item_that_is_the_whole_photo_gets_no_box(owner_client, listing):
    photo = listing.photos.get()
    Photo.objects.filter(pk=photo.pk).update(status="done", width=400, height=300)
    Item.objects.create(photo=photo, box=[0, 0, 400, 300])
    page = owner_client.get(f"/listings/{listing.uuid}/photos/").content.decode()
    assert '<rect class="box"' not in page and "items found" not in page
