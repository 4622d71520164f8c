"""The index shared through the storage (CATALOG_INDEX_SNAPSHOTS, worker.index_snapshots): every
rewrite is published as a new snapshot, a host with an empty folder serves the newest plus the
changes since, a newer one reaches the other hosts, and a roll back goes through them too."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Category, IndexSnapshot, ReferenceImage
from vision.index import read_manifest
from worker import index_snapshots
from worker.indexing import update_index
from worker.models_cache import ModelCache, SnapshotMissing
from worker.policy import TRANSIENT_ERRORS

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(settings):
    settings.CATALOG_INDEX_SNAPSHOTS = True
    settings.CATALOG_INDEX_CHECK_SECONDS = 0


def _another_host(settings, tmp_path, name):
    """This test's settings as a host of its own would have them: an empty folder for its index copy."""
    settings.CATALOG_INDEX_PATH = tmp_path / name / "reference.npz"
    return ModelCache()


def test_a_host_with_an_empty_folder_serves_the_newest_snapshot_and_the_changes_since(
        snapshots, imported_catalogue, settings, tmp_path):
    published = IndexSnapshot.objects.get()
    assert published.references == 24 and published.file.storage.exists(published.file.name)

    cache = _another_host(settings, tmp_path, "fresh")
    assert len(cache.categorizer().index) == 24
    assert index_snapshots.copy_of(settings.CATALOG_INDEX_PATH) == published.file.name

    _add_a_reference()
    assert len(cache.categorizer().index) == 25  # from the change rows: no snapshot was written
    assert IndexSnapshot.objects.count() == 1


def test_a_snapshot_missing_from_the_storage_is_retried_not_taken_for_a_missing_photo(
        snapshots, imported_catalogue, settings, tmp_path):
    # A restore without the newest snapshot's file: categorize_photo failed every photo for good with
    # "The photo file is missing from storage" (a FileNotFoundError), and nothing was logged.
    published = IndexSnapshot.objects.get()
    published.file.storage.delete(published.file.name)
    cache = _another_host(settings, tmp_path, "restored")
    with pytest.raises(SnapshotMissing) as raised:
        cache.categorizer()
    assert isinstance(raised.value, TRANSIENT_ERRORS) and not isinstance(raised.value, FileNotFoundError)


def test_a_compaction_on_one_host_reaches_the_others(snapshots, imported_catalogue, settings, tmp_path):
    other = _another_host(settings, tmp_path, "other")
    before = other.categorizer()
    settings.CATALOG_INDEX_PATH = tmp_path / "index" / "reference.npz"  # the first host again
    _add_a_reference()
    update_index(compact=True)
    assert IndexSnapshot.objects.count() == 2

    settings.CATALOG_INDEX_PATH = tmp_path / "other" / "reference.npz"
    after = other.categorizer()
    assert after is not before
    assert index_snapshots.copy_of(settings.CATALOG_INDEX_PATH) == IndexSnapshot.newest().file.name


def test_a_switch_and_its_roll_back_go_through_snapshots(snapshots, imported_catalogue, settings, tmp_path):
    call_command("rebuild_index", "--backbone", "grocery", stdout=io.StringIO(), stderr=io.StringIO())
    switched = IndexSnapshot.newest()
    assert switched.backbone == "grocery" and switched.previous.backbone == "efficientnet_lite0"

    call_command("rollback_index", stdout=io.StringIO(), stderr=io.StringIO())
    back = IndexSnapshot.newest()
    assert back.backbone == "efficientnet_lite0" and back.previous.backbone == "grocery"
    assert read_manifest(settings.CATALOG_INDEX_PATH)["backbone"] == "efficientnet_lite0"
    assert _another_host(settings, tmp_path, "fresh").categorizer().index.backbone_name == "efficientnet_lite0"


def test_replaced_snapshots_are_deleted_but_the_newest_and_the_one_kept_for_a_roll_back(
        snapshots, imported_catalogue, settings):
    first = IndexSnapshot.newest()
    kept = index_snapshots.publish(keep_previous=True)  # as a switch would: `first` kept for a roll back
    replaced = index_snapshots.publish()
    newest = index_snapshots.publish()
    IndexSnapshot.objects.update(created=timezone.now() - timedelta(days=1))
    index_snapshots.forget_replaced()

    assert set(IndexSnapshot.objects.values_list("pk", flat=True)) == {first.pk, newest.pk}
    storage = first.file.storage
    assert storage.exists(first.file.name) and storage.exists(newest.file.name)
    assert not storage.exists(kept.file.name) and not storage.exists(replaced.file.name)


def _add_a_reference():
    """A reference of a new leaf, its embedding stored (a copy of another's, as a review makes one)."""
    reference = ReferenceImage.objects.first()
    ReferenceImage.objects.create(category=Category.objects.get_or_create_path(["Fruit", "Lemon"]),
                                  source=ReferenceImage.Source.IMPORT, source_key="sha256:lemon",
                                  image=reference.image.name, embedding=reference.embedding,
                                  embedding_version=reference.embedding_version)
