"""Idempotency-Key: a retried request gets the first response instead of doing the work twice."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from .errors import PROBLEM_CONTENT_TYPE, problem_response
from .models import IdempotentRequest

KEY_LIMIT = 255
HEADER = "Idempotency-Key"
# How long a key's first response is replayed; after that the key is new again.
KEY_LIFETIME = timedelta(days=1)
# Claims tried before answering "retry": each failed try saw the record deleted between reading and
# taking it over, which takes a clean-up (catalog.housekeeping) racing the request.
CLAIM_TRIES = 3


def respond_once(request, handler):
    """handler()'s response, or, for a key this user sent before, the response the first request got."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not key.strip() or len(key) > KEY_LIMIT:
        return problem_response(status.HTTP_400_BAD_REQUEST, f"{HEADER} must be 1 to {KEY_LIMIT} characters.")
    fingerprint = _fingerprint(request)
    record, first = _claim(request.user, key.strip(), fingerprint)
    if not first:
        return _replay(record, fingerprint)
    try:
        response = handler()
    except BaseException:
        record.delete()  # nothing was answered: a retry may try again
        raise
    _remember(record, response)
    return response


def _claim(user, key, fingerprint):
    """(record, True) when this request is to do the work, (record, False) when another has it;
    (None, False) when the key's record was deleted under it on every try (clean-ups racing it)."""
    for _ in range(CLAIM_TRIES):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint), True
        except IntegrityError:
            record = IdempotentRequest.objects.filter(user=user, key=key).first()
        taken = record is not None and _take_over(record, fingerprint)
        # An expired record deleted meanwhile (catalog.housekeeping) is claimed afresh, not replayed.
        if taken or (record is not None and IdempotentRequest.objects.filter(pk=record.pk).exists()):
            return record, taken
    return None, False


def _take_over(record, fingerprint):
    """Whether this request may start afresh on a key that is used up: remembered longer than
    KEY_LIFETIME, or claimed by a first request that died (a web process killed mid-request never
    answers, and its claim would otherwise refuse every retry). One request wins the update."""
    now = timezone.now()
    expired = Q(created__lt=now - KEY_LIFETIME)
    died = Q(status_code=None, fingerprint=fingerprint,
             created__lt=now - timedelta(seconds=settings.CATALOG_WEB_TIMEOUT))
    taken = (IdempotentRequest.objects.filter(expired | died, pk=record.pk)
             .update(created=now, fingerprint=fingerprint, status_code=None, body=None))
    if taken:
        record.refresh_from_db()
    return bool(taken)


def _replay(record, fingerprint):
    if record is None:
        return problem_response(status.HTTP_409_CONFLICT, f"This {HEADER} could not be claimed just now (its old "
                                                          "record was being cleared away); retry in a moment.")
    if record.fingerprint != fingerprint:
        return problem_response(status.HTTP_422_UNPROCESSABLE_ENTITY,
                      f"This {HEADER} was already used for a different request; use a new key for a new request.")
    if record.status_code is None:
        return problem_response(status.HTTP_409_CONFLICT,
                      f"The first request with this {HEADER} is still being processed; retry in a moment.")
    headers = {"Idempotent-Replayed": "true"}
    if record.status_code == status.HTTP_202_ACCEPTED:  # the first answer gave the job's address so too
        headers["Location"] = record.body["url"]
    return Response(record.body, status=record.status_code, headers=headers,
                    content_type=PROBLEM_CONTENT_TYPE if record.status_code >= 400 else None)


def _remember(record, response):
    # An answer that asks the client to try again later (5xx, 429: the allowance or the rate) is
    # not the request's answer for good: the same key tries again then.
    if response.status_code >= 500 or response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        record.delete()
        return
    record.status_code, record.body = response.status_code, response.data
    record.save(update_fields=["status_code", "body"])


def _fingerprint(request):
    """A hash of what the request asks: method, path, form fields and the content of every file."""
    digest = hashlib.sha256(f"{request.method} {request.path}".encode())
    for name in sorted(request.POST):
        digest.update(f"\0{name}={request.POST.getlist(name)!r}".encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(f"\0{name}:{upload.name}:".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()

