"""A review decision or a category edit reaches the index at once, in the running process."""

import logging

import pytest
from django.core.files.base import ContentFile

from catalog.models import Category, Item, ReferenceImage
from catalog.review import decide
from vision.index import read_manifest
from worker.models_cache import models
from worker.tasks import categorize_photo, update_reference_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def categorized_banana(banana_photo, imported_catalogue, settings):
    settings.CATALOG_SEGMENTER = ""
    categorize_photo(banana_photo.id)
    return Item.objects.get()


def test_a_correction_is_in_the_index_before_the_next_photo(categorized_banana, staff,
                                                            django_capture_on_commit_callbacks):
    plantain = Category.objects.get_or_create_path(("Fruit", "Plantain"))
    with django_capture_on_commit_callbacks(execute=True):
        decide(categorized_banana, plantain, staff)
    reference = ReferenceImage.objects.get(source="review")
    assert reference.category == plantain and reference.embedding == categorized_banana.embedding
    assert models.categorizer().index.entries()[reference.pk] == ("Fruit", "Plantain")
    categorize_photo_again(categorized_banana.photo)
    assert Item.objects.get().category == plantain  # its own crop is now its nearest reference


def test_an_accepted_item_becomes_a_reference_of_its_category(categorized_banana, staff,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert decide(categorized_banana, categorized_banana.category, staff) == "accepted"
    reference = ReferenceImage.objects.get(source="review")
    assert reference.category.path == "Fruit > Banana" and reference.image.size > 0
    assert reference.pk in models.categorizer().index.entries()


def test_deciding_twice_keeps_one_reference_with_the_latest_category(categorized_banana, staff,
                                                                      django_capture_on_commit_callbacks):
    carrots = Category.objects.get(path="Vegetables > Carrots")
    with django_capture_on_commit_callbacks(execute=True):
        decide(categorized_banana, carrots, staff)
    with django_capture_on_commit_callbacks(execute=True):
        decide(categorized_banana, Category.objects.get(path="Fruit > Banana"), staff)
    reference = ReferenceImage.objects.get(source="review")
    assert reference.category.path == "Fruit > Banana"
    assert models.categorizer().index.entries()[reference.pk] == ("Fruit", "Banana")
    assert categorized_banana.decisions.count() == 2


def test_renaming_a_category_rewrites_its_paths_in_the_index(imported_catalogue):
    fruit = Category.objects.get(path="Fruit")
    fruit.name = "Fresh fruit"
    fruit.save()
    update_reference_index()
    paths = set(models.categorizer().index.entries().values())
    assert ("Fresh fruit", "Banana") in paths and not any(path[0] == "Fruit" for path in paths)


def test_an_update_with_nothing_new_leaves_the_index_file_alone(imported_catalogue, settings):
    before = read_manifest(settings.CATALOG_INDEX_PATH)["version"]
    update_reference_index()
    assert read_manifest(settings.CATALOG_INDEX_PATH)["version"] == before


def test_the_imported_index_has_a_head_for_heatmaps(imported_catalogue):
    index = models.categorizer().index
    assert index.head is not None and len(index.head.weights) == len(index.categories)


def categorize_photo_again(photo):
    photo.__class__.objects.filter(pk=photo.pk).update(status="queued")
    categorize_photo(photo.id)


def test_an_index_saved_without_a_head_gets_one(imported_catalogue, settings):
    from vision.index import ReferenceIndex

    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    index.head = None
    index.save(settings.CATALOG_INDEX_PATH)
    update_reference_index()
    assert ReferenceIndex.load(settings.CATALOG_INDEX_PATH).head is not None


def test_an_index_calibrated_on_older_features_answers_uncalibrated_until_it_is_refitted(
        calibrated_catalogue, banana_photo, settings):
    """A file from before the calibration's features changed cannot score today's: photos are
    categorized meanwhile (every answer needs review), and the next update refits it."""
    from vision.calibration import FEATURES
    from vision.index import ReferenceIndex

    settings.CATALOG_SEGMENTER = ""
    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    index.calibration.features = FEATURES[:4]
    index.calibration.coefficients = index.calibration.coefficients[:, :, :4]
    index.save(settings.CATALOG_INDEX_PATH)
    assert ReferenceIndex.load(settings.CATALOG_INDEX_PATH).calibration is None

    categorize_photo(banana_photo.id)
    item = Item.objects.get()
    assert item.photo.status == "done" and not item.calibrated and item.outcome == "needs_review"
    update_reference_index()
    assert read_manifest(settings.CATALOG_INDEX_PATH)["calibration"]["features"] == list(FEATURES)
    assert ReferenceIndex.load(settings.CATALOG_INDEX_PATH).calibration is not None


def test_an_update_names_the_references_it_could_not_read(imported_catalogue, caplog):
    """An unreadable reference stays out of the index; the update says which, instead of skipping
    it without a word on every update."""
    ReferenceImage.objects.create(category=Category.objects.get(path="Fruit > Banana"),
                                  source=ReferenceImage.Source.IMPORT, source_key="broken.jpg",
                                  image=ContentFile(b"not a photo", name="broken.jpg"))
    with caplog.at_level(logging.WARNING, logger="worker.indexing"):
        update_reference_index()
    broken = ReferenceImage.objects.get(source_key="broken.jpg")
    assert "References whose file could not be read stay out of the index (1: " in caplog.text
    assert broken.image.name in caplog.text and broken.pk not in models.categorizer().index.entries()
