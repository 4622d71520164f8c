"""A key whose first request died (the web process killed mid-request) is not refused forever."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import IdempotentRequest, Listing
from tests.photos import encoded_upload

pytestmark = pytest.mark.django_db


def _create(api):
    return api.post("/api/v1/listings/", {"title": "Mug", "photos": [encoded_upload("mug.png")]},
                    headers={"Idempotency-Key": "crash-1"})


def _as_if_its_request_died(age):
    """The claim a killed request leaves: no answer, and nothing created."""
    Listing.objects.all().delete()
    IdempotentRequest.objects.update(status_code=None, body=None, created=timezone.now() - age)


def test_a_retry_after_the_request_timeout_takes_the_key_over(api, settings):
    _create(api)
    _as_if_its_request_died(timedelta(seconds=settings.CATALOG_WEB_TIMEOUT + 1))
    response = _create(api)
    assert response.status_code == 201 and Listing.objects.count() == 1
    assert _create(api)["Idempotent-Replayed"] == "true" and Listing.objects.count() == 1


def test_within_the_timeout_the_first_request_may_still_answer(api, settings):
    _create(api)
    _as_if_its_request_died(timedelta(seconds=settings.CATALOG_WEB_TIMEOUT - 30))
    assert _create(api).status_code == 409


def test_a_key_is_new_again_after_a_day(api):
    _create(api)
    IdempotentRequest.objects.update(created=timezone.now() - timedelta(days=1, minutes=1))
    assert _create(api).status_code == 201 and Listing.objects.count() == 2
