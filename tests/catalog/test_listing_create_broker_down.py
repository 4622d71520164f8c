"""A seller's upload must not be lost, nor answered with an error, when Redis is unreachable."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Listing
from config.celery import app
from tests.celery_support import use_broker
from tests.photos import grocery_upload
from worker.tasks import requeue_stale_photos

pytestmark = pytest.mark.django_db

CLOSED_PORT_BROKER = "redis://127.0.0.1:9/0"


@pytest.fixture
def broker_down():
    previous = app.conf.task_always_eager, app.conf.broker_url
    use_broker(False, CLOSED_PORT_BROKER)
    yield
    use_broker(*previous)


def test_the_upload_is_kept_queued_when_the_broker_is_down(owner_client, broker_down,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/listings/new/", {"title": "Bananas",
                                                        "photos": [grocery_upload("Fruit/Banana")]})
    listing = Listing.objects.get()
    assert response.status_code == 302 and response.url == f"/listings/{listing.uuid}/"
    assert listing.photos.get().status == "queued"


def test_the_sweeper_sends_it_once_the_broker_is_back(owner_client, broker_down, imported_catalogue,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    Listing.objects.get().photos.update(created=timezone.now() - timedelta(hours=2))
    assert requeue_stale_photos() == 0  # it said "1 sent again" with the broker still down
    use_broker(True, "memory://")
    assert requeue_stale_photos() == 1
    assert Listing.objects.get().photos.get().status == "done"
