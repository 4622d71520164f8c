"""A real `celery worker` with CATALOG_BATCH_PHOTOS takes the photos waiting in the queue in one
pass; the messages of those it took beside its own are skipped, and nothing is done twice."""

import pytest

from catalog.models import Listing, Photo
from catalog.tasks import enqueue_photo
from tests.celery_support import wait_until_settled
from tests.worker.test_categorize_photos_together import LEAVES, queued_photos  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_categorizes_queued_photos_together(queued_photos, settings, start_worker):  # noqa: F811
    settings.CATALOG_BATCH_PHOTOS = 4
    process, log = start_worker()
    for photo in queued_photos:
        assert enqueue_photo(photo.id)
    for listing in Listing.objects.all():
        wait_until_settled(listing)
    photos = list(Photo.objects.order_by("pk"))
    log.seek(0)
    assert [photo.status for photo in photos] == ["done"] * 3, log.read()[-3000:]
    assert [photo.attempts for photo in photos] == [1, 1, 1]  # each started once
    assert photos[1].started == photos[2].started  # claimed together beside the first
    assert all(photo.held_until is None for photo in photos) and process.poll() is None
