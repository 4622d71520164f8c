"""An Idempotency-Key whose expired record is deleted (catalog.housekeeping) while a request claims it
is claimed afresh: the request was answered the more than a day old response."""

import pytest

from catalog import idempotency
from catalog.models import IdempotentRequest

pytestmark = pytest.mark.django_db


def test_a_record_deleted_while_it_is_claimed_is_claimed_afresh(owner, monkeypatch):
    IdempotentRequest.objects.create(user=owner, key="k", fingerprint="old", status_code=201, body={"title": "x"})
    take_over = idempotency._take_over

    def deleted_meanwhile(record, fingerprint):
        IdempotentRequest.objects.filter(pk=record.pk).delete()  # tidy_up, between the read and the update
        monkeypatch.setattr(idempotency, "_take_over", take_over)
        return take_over(record, fingerprint)

    monkeypatch.setattr(idempotency, "_take_over", deleted_meanwhile)
    record, first = idempotency._claim(owner, "k", "new")
    assert first and record.fingerprint == "new" and record.status_code is None
    assert IdempotentRequest.objects.get(user=owner, key="k").pk == record.pk


def test_a_record_deleted_under_every_claim_answers_retry(owner, monkeypatch):
    """Clean-ups deleting the record under each try: a 409 that says to retry, not a server error."""
    IdempotentRequest.objects.create(user=owner, key="k", fingerprint="old", status_code=201, body={"title": "x"})
    take_over = idempotency._take_over

    def deleted_meanwhile(record, fingerprint):
        IdempotentRequest.objects.filter(pk=record.pk).delete()
        IdempotentRequest.objects.create(user=owner, key="k", fingerprint="old", status_code=201, body={})
        return take_over(record, fingerprint)

    monkeypatch.setattr(idempotency, "_take_over", deleted_meanwhile)
    assert idempotency._claim(owner, "k", "new") == (None, False)
    answer = idempotency._replay(None, "new")
    assert answer.status_code == 409 and "retry" in answer.data["detail"]
