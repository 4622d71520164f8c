import pytest

pytestmark = pytest.mark.django_db


def test_the_owner_gets_the_photo_file(owner_client, listing):
    photo = listing.photos.get()
    response = owner_client.get(f"/photos/{photo.uuid}/image")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_an_outsider_gets_404_for_the_photo_file(outsider_client, listing):
    assert outsider_client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 404


def test_an_anonymous_visitor_cannot_fetch_the_photo_file(client, listing):
    assert client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 302


def test_photo_files_are_not_served_from_a_public_media_url(client, owner_client, listing):
    name = listing.photos.get().image.name
    assert owner_client.get(f"/media/{name}").status_code == 404


def test_staff_get_any_sellers_photo_file_for_review(staff_client, listing):
    assert staff_client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 200
