"""A seller downloads everything their account holds, and deletes it, with its listings' files."""

import json

import pytest
from django.contrib.auth import get_user_model

from catalog.models import ApiToken, Listing

pytestmark = pytest.mark.django_db


def test_the_download_holds_the_sellers_listings_tokens_and_nothing_of_anothers(owner_client, owner, listing,
                                                                                make_item, outsider):
    make_item("Fruit > Banana")
    token, _ = ApiToken.objects.issue(owner, "stock sync")
    Listing.objects.create(seller=outsider, title="Not mine")
    answer = owner_client.get("/settings/account/export")
    assert answer.status_code == 200 and answer["Content-Disposition"] == 'attachment; filename="catalog-olivia.json"'
    data = json.loads(answer.content)
    assert data["account"]["username"] == "olivia"
    assert [entry["title"] for entry in data["listings"]] == ["Bananas"]
    assert data["listings"][0]["photos"][0]["items"][0]["category"] == "Fruit > Banana"
    assert data["api_tokens"][0]["name"] == "stock sync" and token.key_hash not in answer.content.decode()
    assert "Not mine" not in answer.content.decode()


def test_a_wrong_password_deletes_nothing(owner_client, owner, listing):
    answer = owner_client.post("/settings/account/", {"password": "not-it"})
    assert answer.status_code == 400 and "That is not your password" in answer.content.decode()
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


def test_an_account_that_reviewed_once_keeps_its_decisions_without_its_name(client, django_user_model, make_item):
    # Its staff flag taken away since: its decisions named it, and deleting it was a 500.
    from catalog.models import Category, ReviewDecision
    from catalog.review import decide

    former = django_user_model.objects.create_user("rita", password="a-long-password-7")
    decide(make_item("Fruit > Banana"), Category.objects.get_or_create_path(["Fruit", "Apple"]), former)
    client.force_login(former)
    answer = client.post("/settings/account/", {"password": "a-long-password-7"}, follow=True)
    assert "Your account is deleted" in answer.content.decode()
    decision = ReviewDecision.objects.get()
    assert decision.reviewer is None and decision.reviewer_name == "a former member of staff"


def test_an_account_whose_bulk_job_is_being_imported_is_not_deleted_yet(owner_client, owner):
    from catalog.models import BulkJob

    BulkJob.objects.create(seller=owner, status=BulkJob.Status.IMPORTING)
    answer = owner_client.post("/settings/account/", {"password": "a-long-password-1"})
    assert answer.status_code == 400 and "being imported" in answer.content.decode()
    assert get_user_model().objects.filter(pk=owner.pk).exists()


def test_wrong_passwords_count_towards_the_lock_out(owner_client, owner, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        owner_client.post("/settings/account/", {"password": "not-it"})
    answer = owner_client.post("/settings/account/", {"password": "a-long-password-1"})  # the right one, locked
    assert answer.status_code == 429 and get_user_model().objects.filter(pk=owner.pk).exists()  # the lock-out page


def test_the_download_of_a_name_in_another_script_is_named_safely(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("ольга", password="a-long-password-9"))
    disposition = client.get("/settings/account/export")["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''catalog-" in disposition
