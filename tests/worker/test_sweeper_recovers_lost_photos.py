"""Faults that lose a photo's message, and the sweeper that finds the photo again: a worker killed
mid-photo, a broker down when the photo was sent, a broker that lost its queue. Each photo ends
done, with real workers on the real Redis."""

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from catalog.models import Listing, Photo
from tests.celery_support import wait_until_settled
from tests.photos import grocery_upload
from tests.stack import free_port
from worker.tasks import requeue_stale_photos

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(owner_client):
    owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    return Listing.objects.get()


def _older(**fields):
    """As if the sweeper ran later: claims and uploads younger than its settling time are left alone."""
    earlier = timezone.now() - timedelta(minutes=2)
    Photo.objects.update(**{field: earlier for field in fields})


def _wait_for(condition, seconds=120):
    """Whether condition() came true (it is called once more only while it has not)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _assert_done(listing, log):
    wait_until_settled(listing)
    log.seek(0)
    photo = listing.photos.get()
    assert photo.status == "done", f"photo is {photo.status}; worker log:\n{log.read()[-3000:]}"


@pytest.fixture
def private_broker(tmp_path):
    """A Redis of this test's own, to stop and start: (url, start, stop)."""
    port = free_port()
    servers = []

    def start():
        servers.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL))
        assert _wait_for(lambda: _answers(port), 20), "the private Redis did not start"

    def stop():
        servers[-1].terminate()
        servers[-1].wait(timeout=20)

    start()
    yield f"redis://127.0.0.1:{port}/0", start, stop
    stop()


def _answers(port):
    try:
        return redis.Redis(port=port).ping()
    except redis.ConnectionError:
        return False


def test_a_photo_whose_worker_was_killed_mid_photo_is_finished_by_another(start_worker, imported_catalogue,
                                                                          owner_client):
    process, _ = start_worker(pool="prefork")
    listing = _upload(owner_client)
    assert _wait_for(lambda: listing.photos.get().status == "processing"), "no worker took the photo"
    os.killpg(process.pid, signal.SIGKILL)  # the worker and its pool, mid-photo
    _, log = start_worker(pool="prefork")
    _older(started=True)
    assert _wait_for(lambda: requeue_stale_photos() == 1, 60)  # once the new worker answers
    _assert_done(listing, log)
    assert listing.photos.get().attempts == 2


def test_a_photo_sent_while_the_broker_was_down_is_sent_when_it_is_back(private_broker, start_worker,
                                                                        imported_catalogue, owner_client):
    url, start_broker, stop_broker = private_broker
    start_worker(url)
    stop_broker()
    listing = _upload(owner_client)  # accepted: the photo waits, marked unsent
    assert listing.photos.get().unsent
    start_broker()
    _, log = start_worker(url)
    _older(created=True)
    assert _wait_for(lambda: requeue_stale_photos() == 1, 60)
    _assert_done(listing, log)
    assert not listing.photos.get().unsent


def test_photos_whose_messages_the_broker_lost_are_sent_again(private_broker, start_worker, imported_catalogue,
                                                              owner_client):
    url, start_broker, stop_broker = private_broker
    start_worker(url)[0].terminate()  # only to send this test's tasks to the private broker
    listing = _upload(owner_client)
    stop_broker()  # it keeps nothing: the queued message is gone
    start_broker()
    _, log = start_worker(url)
    _older(created=True)
    assert _wait_for(lambda: requeue_stale_photos() == 1, 60)
    _assert_done(listing, log)
