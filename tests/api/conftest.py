import pytest
from django.test import Client

from catalog.models import ApiToken


@pytest.fixture
def owner_key(owner):
    return ApiToken.objects.issue(owner, "stock sync")[1]


@pytest.fixture
def api(owner_key):
    """A client of the owner's, authenticated by API token only (no session)."""
    return Client(HTTP_AUTHORIZATION=f"Token {owner_key}")


@pytest.fixture
def outsider_api(outsider):
    return Client(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.issue(outsider, 'theirs')[1]}")
