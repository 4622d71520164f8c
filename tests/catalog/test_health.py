"""/health, for a load balancer: 200 when the database, the broker, the storage and the index are
usable, else 503, each part named with what was found."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import IndexSnapshot, ReferenceImage

pytestmark = pytest.mark.django_db


def test_every_part_usable_is_a_200_naming_each(imported_catalogue, client):
    answer = client.get("/health")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "ok"
    assert set(answer.json()["checks"]) == {"database", "broker", "storage", "index"}
    assert answer["Cache-Control"].startswith("max-age=0")


def test_no_index_yet_is_a_503_that_says_what_to_run(client):
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["checks"]["index"] == "failing: there is no reference index yet (manage.py import_catalog)"
    assert answer.json()["checks"]["database"].startswith("ok")


def test_references_waiting_long_to_be_embedded_mean_the_index_update_is_not_running(imported_catalogue, client):
    ReferenceImage.objects.filter(pk=ReferenceImage.objects.first().pk).update(
        embedding_version="", created=timezone.now() - timedelta(hours=1))
    assert "the scheduled index update is not running" in client.get("/health").json()["checks"]["index"]


def test_a_bucket_that_cannot_be_reached_is_named(s3_storage, imported_catalogue, settings, client):
    assert client.get("/health").status_code == 200
    settings.STORAGES = settings.STORAGES | {"default": settings.STORAGES["default"] | {
        "OPTIONS": settings.CATALOG_S3_OPTIONS | {"endpoint_url": "http://127.0.0.1:9"}}}
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"] == "failing: the bucket cannot be reached (EndpointConnectionError)"


def test_a_bucket_that_does_not_exist_is_named(s3_storage, imported_catalogue, settings, client):
    # Asking for a file in it answered "not there", which read as a usable bucket.
    settings.STORAGES = settings.STORAGES | {"default": settings.STORAGES["default"] | {
        "OPTIONS": settings.CATALOG_S3_OPTIONS | {"bucket_name": "no-such-bucket-anywhere"}}}
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"].startswith("failing: the bucket does not exist")


@pytest.fixture
def snapshots(settings):
    settings.CATALOG_INDEX_SNAPSHOTS = True


def test_a_snapshot_missing_from_the_storage_fails_the_index(snapshots, imported_catalogue, client):
    assert client.get("/health").status_code == 200
    snapshot = IndexSnapshot.newest()
    snapshot.file.storage.delete(snapshot.file.name)
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["checks"]["index"] == (
        "failing: the newest index snapshot is missing from the storage (manage.py rebuild_index)")


def test_references_without_an_index_say_to_rebuild_it(imported_catalogue, settings, client, tmp_path):
    # An install moved to the bucket has its references: import_catalog would write no index.
    settings.CATALOG_INDEX_PATH = tmp_path / "elsewhere" / "reference.npz"
    assert client.get("/health").json()["checks"]["index"] == (
        "failing: there is no reference index yet (manage.py rebuild_index)")
