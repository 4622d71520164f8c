"""A seller's listings newest first (My listings, the API's list) are read off an index in that
order: a seller of many listings had all of them sorted for every page."""

import pytest
from django.db import connection

from catalog.models import Listing

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_a_sellers_listings_newest_first_need_no_sort(owner):
    with connection.cursor() as cursor:
        # A test's few rows would be scanned, or sorted, whatever the index: only an index in this
        # order leaves the planner a way without a sort.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    plan = Listing.objects.visible_to(owner).order_by("-created", "-id").explain()
    assert "listing_seller_newest" in plan and "Sort" not in plan, plan
