"""The title read on the product: suggested on the listing page, accepted or edited by its seller."""

import pytest

from catalog.models import Listing, Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def read_listing(listing):
    """The listing, its photo done with a title read on the product."""
    Photo.objects.update(status="done", suggested_title="Yoggi Original Vanilj")
    return listing


def _url(listing):
    return f"/listings/{listing.uuid}/title"


def test_the_listing_page_suggests_the_title_read_on_the_product(owner_client, read_listing):
    page = owner_client.get(f"/listings/{read_listing.uuid}/").content.decode()
    assert "Read on the product" in page and 'value="Yoggi Original Vanilj"' in page


def test_the_seller_accepts_the_title_as_edited(owner_client, read_listing):
    response = owner_client.post(_url(read_listing), {"title": "  Yoggi  Vanilla yoghurt 1 kg "})
    assert response.status_code == 302 and Listing.objects.get().title == "Yoggi Vanilla yoghurt 1 kg"
    assert "Read on the product" not in owner_client.get(response["Location"]).content.decode()  # chosen: no more


def test_a_bad_title_is_refused_with_its_reason_and_changes_nothing(owner_client, read_listing):
    response = owner_client.post(_url(read_listing), {"title": "Bell\x07title"})
    assert response.status_code == 400 and "control characters" in response.content.decode()
    assert Listing.objects.get().title == "Bananas"


def test_no_suggestion_is_shown_when_nothing_was_read(owner_client, listing):
    Photo.objects.update(status="done")
    assert "Read on the product" not in owner_client.get(f"/listings/{listing.uuid}/").content.decode()


def test_another_sellers_listing_is_404(outsider_client, read_listing):
    assert outsider_client.post(_url(read_listing), {"title": "Mine now"}).status_code == 404
    assert Listing.objects.get().title == "Bananas"


def test_the_api_gives_the_suggested_title_and_the_text_on_each_item(api, read_listing, make_item):
    make_item(text_read=[["Yoggi", 0.99], ["original 2%", 0.98]])
    body = api.get(f"/api/v1/listings/{read_listing.uuid}/").json()
    assert body["suggested_title"] == "Yoggi Original Vanilj"
    assert body["photos"][0]["items"][0]["text"] == ["Yoggi", "original 2%"]
