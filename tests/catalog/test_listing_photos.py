import pytest

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
