"""A seller downloads everything their account holds, and deletes it, with its listings' files."""

import json

import pytest
from django.contrib.auth import get_user_model

from catalog.models import ApiToken, Listing

pytestmark = pytest.mark.django_db


def test_the_download_holds_the_sellers_listings_tokens_and_nothing_of_anothers(owner_client, owner, listing,
                                                                                make_item, outsider):
    make_item("Fruit > Banana")
    ApiToken.objects.issue(owner, "stock sync")
    Listing.objects.create(seller=outsider, title="Not mine")
    answer = owner_client.get("/settings/account/export")
    assert answer.status_code == 200 and answer["Content-Disposition"] == 'attachment; filename="catalog-olivia.json"'
    data = json.loads(answer.content)
    assert data["account"]["username"] == "olivia"
    assert [entry["title"] for entry in data["listings"]] == ["Bananas"]
    assert data["listings"][0]["photos"][0]["items"][0]["category"] == "Fruit > Banana"
    assert data["api_tokens"][0]["name"] == "stock sync" and "key_hash" not in data["api_tokens"][0]
    assert "Not mine" not in answer.content.decode()


def test_a_wrong_password_deletes_nothing(owner_client, owner, listing):
    answer = owner_client.post("/settings/account/", {"password": "not-it"})
    assert answer.status_code == 400 and "That is not your password: nothing was deleted." in answer.content.decode()
    assert get_user_model().objects.filter(pk=owner.pk).exists() and Listing.objects.filter(pk=listing.pk).exists()


def test_the_account_goes_with_its_listings_files_and_tokens(owner_client, owner, listing, outsider,
                                                             django_capture_on_commit_callbacks):
    photo = listing.photos.get()
    storage, name = photo.image.storage, photo.image.name
    ApiToken.objects.issue(owner, "stock sync")
    theirs = Listing.objects.create(seller=outsider, title="Not mine")
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post("/settings/account/", {"password": "a-long-password-1"}, follow=True)
    assert "Your account is deleted" in answer.content.decode()
    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    assert not Listing.objects.filter(seller_id=owner.pk).exists() and not ApiToken.objects.exists()
    assert not storage.exists(name)  # the photo file went with it
    assert Listing.objects.filter(pk=theirs.pk).exists()
    assert owner_client.get("/settings/account/").status_code == 302  # logged out


def test_a_staff_account_is_not_deleted_here(staff_client, staff):
    answer = staff_client.post("/settings/account/", {"password": "a-long-password-3"})
    assert answer.status_code == 400 and "Ask an administrator" in answer.content.decode()
    assert get_user_model().objects.filter(pk=staff.pk).exists()
