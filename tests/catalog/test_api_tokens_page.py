import pytest

from catalog.models import ApiToken, hash_token_key

pytestmark = pytest.mark.django_db


def test_a_seller_creates_a_token_and_sees_its_key_once(owner_client, owner):
    response = owner_client.post("/settings/api-tokens/", {"name": "stock sync"})
    assert response.status_code == 302 and response.url == "/settings/api-tokens/"
    page = owner_client.get(response.url).content.decode()
    token = ApiToken.objects.get()
    key = page.split('<code id="new-key">')[1].split("</code>")[0]
    assert token.user == owner and token.key_hash == hash_token_key(key)
    assert key not in owner_client.get("/settings/api-tokens/").content.decode()


def test_a_token_needs_a_name(owner_client):
    response = owner_client.post("/settings/api-tokens/", {"name": ""})
    assert "This field is required." in response.content.decode() and not ApiToken.objects.exists()


def test_a_seller_revokes_a_token(owner_client, owner):
    token, _ = ApiToken.objects.issue(owner, "old script")
    response = owner_client.post(f"/settings/api-tokens/{token.uuid}/revoke", follow=True)
    assert "Revoked “old script”" in response.content.decode() and not ApiToken.objects.exists()


def test_another_seller_cannot_revoke_it(outsider_client, owner):
    token, _ = ApiToken.objects.issue(owner, "mine")
    assert outsider_client.post(f"/settings/api-tokens/{token.uuid}/revoke").status_code == 404
    assert ApiToken.objects.exists()


def test_the_page_lists_only_the_sellers_own_tokens(owner_client, outsider):
    ApiToken.objects.issue(outsider, "someone else's")
    assert "someone else" not in owner_client.get("/settings/api-tokens/").content.decode()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/settings/api-tokens/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_seller_holds_a_limited_number_of_live_tokens(owner_client, owner, settings):
    settings.CATALOG_MAX_API_TOKENS = 2
    for name in ("one", "two"):
        ApiToken.objects.issue(owner, name)
    response = owner_client.post("/settings/api-tokens/", {"name": "three"})
    assert "revoke one" in response.content.decode() and ApiToken.objects.count() == 2
