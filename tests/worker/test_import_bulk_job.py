"""A bulk request is answered at once and a real worker makes its rows; a job whose message the
broker lost is sent again by the sweeper."""

import os
import time
from datetime import timedelta

import pytest
import redis

from catalog.models import BulkJob
from tests.photos import csv_manifest, png_bytes, zip_upload
from worker.tasks import requeue_stale_photos

pytestmark = pytest.mark.django_db(transaction=True)


def _send(api):
    response = api.post("/api/v1/bulk-jobs/", {
        "manifest": csv_manifest("SKU-1,Red mug,a.png", "SKU-2,Blue mug,b.png", "SKU-3,,a.png"),
        "archive": zip_upload([("a.png", png_bytes()), ("b.png", png_bytes((0, 0, 200)))])})
    assert response.status_code == 202, response.content
    return response.json()["url"]


def _polled_until_done(api, url, seconds=120):
    deadline = time.monotonic() + seconds
    while (job := api.get(url).json())["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    return job


def test_a_worker_makes_the_rows_of_a_bulk_job(celery_worker, api):
    job = _polled_until_done(api, _send(api))
    assert job["status"] == "done", job
    assert [row["reference"] for row in job["accepted"]] == ["SKU-1", "SKU-2"]
    assert job["rejected"][0]["reference"] == "SKU-3" and "title is required" in job["rejected"][0]["errors"][0]


def test_a_bulk_job_whose_message_was_lost_is_sent_again(start_worker, api):
    start_worker()[0].terminate()  # only to send this test's tasks to the test broker
    url = _send(api)
    redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).flushdb()  # the broker lost the message
    start_worker()
    BulkJob.objects.update(created=BulkJob.objects.get().created - timedelta(minutes=2))  # past settling
    deadline = time.monotonic() + 60
    while requeue_stale_photos() != 1 and time.monotonic() < deadline:  # once the new worker answers
        time.sleep(0.5)
    assert _polled_until_done(api, url)["status"] == "done"
