import pytest

from catalog.models import Listing

pytestmark = pytest.mark.django_db


def test_a_seller_sees_only_their_own_listings(owner_client, listing, outsider):
    Listing.objects.create(seller=outsider, title="Someone else's leeks")
    page = owner_client.get("/").content.decode()
    assert "Bananas" in page and "leeks" not in page


def test_a_new_seller_is_invited_to_upload(outsider_client):
    assert "Upload your first photos" in outsider_client.get("/").content.decode()
