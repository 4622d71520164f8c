import pytest
from django.core.cache import cache
from django.test import Client

from catalog.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_token_reaches_the_api_and_is_marked_used(api):
    assert api.get("/api/v1/listings/").status_code == 200
    assert ApiToken.objects.get().last_used is not None


def test_no_token_is_401(db):
    response = Client().get("/api/v1/listings/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401_with_a_reason(db):
    response = Client(HTTP_AUTHORIZATION="Token not-a-real-key").get("/api/v1/listings/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid or revoked API token."


def test_a_revoked_token_stops_working(api, owner_key):
    ApiToken.objects.all().delete()
    assert api.get("/api/v1/listings/").status_code == 401


def test_only_a_fingerprint_of_the_key_is_stored(owner_key):
    token = ApiToken.objects.get()
    assert owner_key not in (token.key_hash, token.prefix) and owner_key.startswith(token.prefix)


def test_the_browser_session_works_too(owner_client):
    assert owner_client.get("/api/v1/listings/").status_code == 200


def test_each_seller_has_one_request_budget_whatever_their_tokens(api, owner, outsider_api, settings):
    settings.CATALOG_API_RATE = "3/minute"
    cache.clear()
    second = Client(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.issue(owner, 'second script')[1]}")
    assert [client.get("/api/v1/listings/").status_code for client in (api, second, api, second)] == [200, 200, 200, 429]
    assert outsider_api.get("/api/v1/listings/").status_code == 200
