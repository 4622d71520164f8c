"""GET /api/v1/quality/: the live precision, for staff tokens only."""

import pytest
from django.test import Client

from catalog.models import ApiToken, Outcome
from catalog.review import decide

pytestmark = pytest.mark.django_db


def test_staff_read_the_live_precision_and_sellers_are_refused(make_item, staff, api):
    item = make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, accepted_depth=2, predicted_path="Fruit > Banana",
                     audit=True)
    decide(item, item.category, staff)
    staff_api = Client(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.issue(staff, 'quality')[1]}")
    body = staff_api.get("/api/v1/quality/").json()
    assert body["target_precision"] == 0.98 and body["audit_rate"] == 0.05
    overall = [row for row in body["live_precision"] if row["top_level"] == "All categories" and row["level"] is None]
    assert overall[0]["audited"] == 1 and overall[0]["precision"] == 1.0 and overall[0]["low"] < 1.0
    assert (overall[0]["failing"], overall[0]["meets_target"]) == (False, False)  # one audit cannot tell
    refused = api.get("/api/v1/quality/")
    assert refused.status_code == 403 and "staff" in refused.json()["detail"]


def test_the_schema_documents_it(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/quality/" in schema["paths"] and "live_precision" in schema["components"]["schemas"]["Quality"][
        "properties"]
