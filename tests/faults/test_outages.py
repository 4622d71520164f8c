"""The served app (tests/stack.py: its own PostgreSQL, Redis, gunicorn, a worker and the sweeper on
Celery beat) through the faults of production: the database restarted after 30 s, the broker
stopped for a minute, a worker killed mid-photo. Every photo accepted ends done within five
minutes of the fault ending, and none is lost; with the sweeper stopped, the tasks' own retries
carry every photo over a 20-second database outage within two minutes."""

import time

import pytest

from tests.photos import copy_small_catalogue, grocery_images
from tests.stack import Stack

RECOVERY_SECONDS = 300


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    catalogue = copy_small_catalogue(tmp_path_factory.mktemp("stack") / "reference", "train", 8)
    with Stack(catalogue, sweep_seconds=5) as running:
        yield running


def _photo(index):
    path = grocery_images("val", "Fruit/Banana", index + 1)[index]
    with open(path, "rb") as handle:
        return "banana.jpg", handle.read(), "image/jpeg"


def _upload(stack, count, label):
    """The uuids of `count` listings the web server accepted."""
    listings = []
    for number in range(count):
        response, _ = stack.upload(f"{label} {number}", [_photo(number)])
        assert response is not None and response.status_code == 201, response and response.text
        listings.append(response.json()["uuid"])
    return listings


def _assert_all_done_within_recovery(stack, listings, seconds=RECOVERY_SECONDS):
    recovered = time.monotonic()
    settled = stack.wait_until_settled(seconds, listings)
    statuses = stack.photo_statuses(listings)
    assert settled, f"{statuses}\nworker:\n{stack.log('worker0')}\nsweeper:\n{stack.log('sweeper')}"
    assert all(photos == ["done"] for photos in statuses.values()), statuses  # none lost, none failed
    return time.monotonic() - recovered


def test_the_database_restarted_after_30_seconds(stack):
    listings = _upload(stack, 4, "Before the outage")
    stack.stop_database()
    refused, _ = stack.upload("During the outage", [_photo(0)])
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Content-Type"] == "application/problem+json"
    time.sleep(30)
    stack.start_database()
    _assert_all_done_within_recovery(stack, listings)


def test_photos_being_processed_when_the_database_stops_finish_without_the_sweeper(stack):
    """The tasks' own retries carry them over a 20-second outage: none is left for the sweeper."""
    stack.stop_sweeper()
    try:
        listings = _upload(stack, 6, "In flight")
        _wait_for_a_photo_processing(stack, listings)
        stack.stop_database()
        time.sleep(20)
        stack.start_database()
        assert _assert_all_done_within_recovery(stack, listings, 120) <= 120
    finally:
        stack.start_sweeper()


def test_the_broker_stopped_for_a_minute(stack):
    queued = _upload(stack, 3, "Queued")  # their messages go down with the broker
    stack.stop_broker()
    unsent = _upload(stack, 3, "Sent while the broker was down")  # accepted all the same
    time.sleep(60)
    stack.start_broker()
    _assert_all_done_within_recovery(stack, queued + unsent)


def _wait_for_a_photo_processing(stack, listings):
    deadline = time.monotonic() + 60
    while "processing" not in sum(stack.photo_statuses(listings).values(), []):
        assert time.monotonic() < deadline, "no photo reached processing: the fault would meet none in flight"
        time.sleep(0.05)


def test_a_worker_killed_mid_photo(stack):
    listings = _upload(stack, 3, "Killed")
    _wait_for_a_photo_processing(stack, listings)
    stack.kill_worker(0)
    stack.start_worker(0)
    _assert_all_done_within_recovery(stack, listings)
