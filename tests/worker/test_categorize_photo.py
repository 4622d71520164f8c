import os

import pytest
from PIL import Image

from catalog.models import Item, Photo
from vision.index import ReferenceIndex
from worker.categorizing import MAX_ATTEMPTS
from worker.models_cache import models
from worker.policy import MAX_RETRIES
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db


def test_it_categorizes_a_photo(banana_photo, imported_catalogue):
    categorize_photo(banana_photo.id)
    banana_photo.refresh_from_db()
    assert banana_photo.status == "done" and banana_photo.started and banana_photo.finished
    assert banana_photo.items.first().category.path == "Fruit > Banana"  # the main item comes first


def test_it_makes_the_photos_display_copies_the_upload_left_to_it(banana_photo, imported_catalogue, settings):
    settings.CATALOG_SEGMENTER = ""
    assert not banana_photo.display
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "done"
    with photo.thumbnail.open("rb") as thumbnail:
        assert Image.open(thumbnail).size == (348, 348)  # the banana photo is smaller than a thumbnail


def test_with_segmentation_off_it_categorizes_the_whole_photo_as_one_item(banana_photo, imported_catalogue,
                                                                          settings):
    settings.CATALOG_SEGMENTER = ""
    categorize_photo(banana_photo.id)
    item = Photo.objects.get().items.get()
    assert item.category.path == "Fruit > Banana" and item.box == [0, 0, 348, 348]


def test_running_it_twice_changes_nothing(banana_photo, imported_catalogue):
    categorize_photo(banana_photo.id)
    finished, items = Photo.objects.get().finished, list(Item.objects.values_list("pk", flat=True))
    categorize_photo(banana_photo.id)
    assert list(Item.objects.values_list("pk", flat=True)) == items and Photo.objects.get().finished == finished


def test_a_photo_left_processing_by_a_dead_worker_is_redone(banana_photo, imported_catalogue, settings):
    settings.CATALOG_SEGMENTER = ""
    Photo.objects.update(status="processing")
    Item.objects.create(photo=banana_photo, box=[0, 0, 1, 1])  # half-written by the dead worker
    categorize_photo(banana_photo.id)
    assert Photo.objects.get().status == "done" and Item.objects.get().category.path == "Fruit > Banana"


def test_a_retry_after_a_passing_error_is_not_another_attempt(banana_photo, imported_catalogue, settings):
    """Only a crash counts towards MAX_ATTEMPTS: a database outage must not use a photo's tries up."""
    settings.CATALOG_SEGMENTER = ""
    Photo.objects.update(status="processing", attempts=MAX_ATTEMPTS - 1)
    categorize_photo.apply(args=[banana_photo.id], retries=3)
    assert Photo.objects.values_list("status", "attempts").get() == ("done", MAX_ATTEMPTS - 1)


def test_a_passing_error_that_outlasts_the_retries_ends_failed_with_a_reason(banana_photo, imported_catalogue):
    os.remove(banana_photo.image.path)
    os.mkdir(banana_photo.image.path)  # an OSError that is not "missing": a disk that has gone wrong
    categorize_photo.apply(args=[banana_photo.id], retries=MAX_RETRIES)
    photo = Photo.objects.get()
    assert (photo.status, photo.failure_reason) == (
        "failed", "Categorization kept failing (IsADirectoryError); try uploading again.")


def test_a_missing_photo_file_ends_failed_with_a_reason(banana_photo, imported_catalogue):
    os.remove(banana_photo.image.path)
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "missing from storage" in photo.failure_reason


def test_a_corrupt_stored_photo_ends_failed_with_a_reason(banana_photo, imported_catalogue):
    with open(banana_photo.image.path, "r+b") as handle:
        handle.truncate(2000)
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "corrupt or truncated" in photo.failure_reason


def test_an_unreadable_index_ends_failed_not_processing(banana_photo, imported_catalogue, settings):
    settings.CATALOG_INDEX_PATH.write_bytes(b"garbage where the index should be")
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed"
    assert "internal error" in photo.failure_reason and "contact support" in photo.failure_reason


def test_a_deleted_photo_is_ignored(banana_photo):
    Photo.objects.all().delete()
    categorize_photo(banana_photo.id)  # must not raise


def test_the_worker_reloads_the_index_when_a_new_version_is_saved(banana_photo, imported_catalogue, settings):
    first = models.categorizer()
    assert models.categorizer() is first
    ReferenceIndex.load(settings.CATALOG_INDEX_PATH).save(settings.CATALOG_INDEX_PATH)
    assert models.categorizer() is not first
    assert models.categorizer().embedder is first.embedder



def test_an_index_whose_backbone_is_gone_ends_failed_with_a_reason_for_staff(banana_photo, imported_catalogue,
                                                                             settings, caplog):
    ReferenceIndex(8, "retired_embedder", "retired_embedder-1").save(settings.CATALOG_INDEX_PATH)
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "not set up on this server yet" in photo.failure_reason
    assert "Unknown backbone 'retired_embedder'" in caplog.text
    assert "rebuild it with `python manage.py rebuild_index`" in caplog.text
