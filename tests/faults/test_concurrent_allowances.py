"""Limits counted then spent, asked for at the same instant by several requests (real PostgreSQL,
one connection a thread): the seller's row lock lets only what the limit allows through."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalog.listings import OverQuota, create_listing
from catalog.models import AllowanceSpent, ApiToken, Listing, TooManyTokens
from catalog.photos import check_photo
from tests.photos import encoded_upload

pytestmark = pytest.mark.django_db(transaction=True)
AT_ONCE = 8


def _all_at_once(action):
    """What `action` returned or raised in each of AT_ONCE threads started together."""
    start = threading.Barrier(AT_ONCE)

    def attempt(number):
        try:
            start.wait()
            return action(number)
        except Exception as error:  # noqa: BLE001 - the refusal is the outcome counted
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(attempt, range(AT_ONCE)))


def test_the_api_token_cap_holds_against_requests_at_once(owner, settings):
    settings.CATALOG_MAX_API_TOKENS = 10
    for number in range(9):
        ApiToken.objects.issue(owner, f"script {number}")
    outcomes = _all_at_once(lambda number: ApiToken.objects.issue(owner, f"racer {number}"))
    assert sum(isinstance(outcome, TooManyTokens) for outcome in outcomes) == AT_ONCE - 1, outcomes
    assert ApiToken.objects.filter(user=owner).count() == 10


def test_the_daily_photo_allowance_holds_against_uploads_at_once(owner, settings):
    settings.CATALOG_SELLER_PHOTOS_PER_DAY = 3
    outcomes = _all_at_once(lambda number: create_listing(owner, f"Racer {number}",
                                                          [check_photo(encoded_upload(f"r{number}.png"))]))
    assert sum(isinstance(outcome, OverQuota) for outcome in outcomes) == AT_ONCE - 3, outcomes
    assert Listing.objects.count() == 3 and sum(AllowanceSpent.objects.values_list("photos", flat=True)) == 3
