import pytest

from catalog.models import Listing

pytestmark = pytest.mark.django_db


def test_a_seller_sees_only_their_own_listings(owner_client, listing, outsider):
    Listing.objects.create(seller=outsider, title="Someone else's leeks")
    page = owner_client.get("/").content.decode()
    assert "Bananas" in page and "leeks" not in page


def test_a_new_seller_is_invited_to_upload(outsider_client):
    assert "Upload your first photos" in outsider_client.get("/").content.decode()


def test_a_visitor_is_told_what_the_app_does(client):
    page = client.get("/").content.decode()
    assert "in the right category" in page and 'href="/signup/"' in page and 'href="/login/"' in page


def test_each_listing_shows_its_first_photos_thumbnail(owner_client, listing):
    photo = listing.photos.get()
    assert f'src="/photos/{photo.uuid}/image?size=thumbnail"' in owner_client.get("/").content.decode()


def test_a_search_holding_a_nul_character_is_read_without_it(owner_client, listing):
    response = owner_client.get("/?q=Ban%00anas")  # PostgreSQL text cannot hold NUL
    assert response.status_code == 200 and "Bananas" in response.content.decode()
