"""Reference changes reach a running worker's index as changes, with no rewrite of the index file;
a compaction writes them into the file and the answers stay the same."""

import pytest

from catalog.models import Category, ReferenceChange, ReferenceImage
from tests.photos import grocery_images
from vision.images import load_image
from vision.index import ReferenceIndex, read_manifest
from worker.indexing import update_index
from worker.models_cache import ModelCache, models
from worker.tasks import update_reference_index

pytestmark = pytest.mark.django_db


def file_version(settings):
    return read_manifest(settings.CATALOG_INDEX_PATH)["version"]


def move_to_plantain(reference):
    reference.category = Category.objects.get_or_create_path(("Fruit", "Plantain"))
    reference.save()
    return reference


def a_banana():
    return ReferenceImage.objects.filter(category__path="Fruit > Banana").first()


def test_a_removed_reference_leaves_the_running_index_and_the_file_stays(imported_catalogue, settings):
    before = file_version(settings)
    banana = a_banana()
    own_embedding = models.categorizer().index.labelled_vectors()[0][0:1]
    first = ReferenceImage.objects.order_by("pk").first()
    first.delete()
    update_reference_index()
    index = models.categorizer().index
    assert first.pk not in index.entries() and banana.pk in index.entries()
    assert first.pk not in {n.reference_id for n in index.search(own_embedding, 5)[0]}
    assert file_version(settings) == before


def test_a_worker_starting_cold_loads_the_file_and_the_changes_since(imported_catalogue, settings):
    before = file_version(settings)
    moved = move_to_plantain(a_banana())
    cold = ModelCache()
    assert cold.categorizer().index.entries()[moved.pk] == ("Fruit", "Plantain")
    assert cold.categorizer().model_version.endswith(f"@{ReferenceChange.objects.latest('pk').pk}")
    assert file_version(settings) == before


def test_a_change_that_commits_after_a_later_one_is_still_applied(imported_catalogue):
    models.categorizer()  # up to date
    moved = move_to_plantain(a_banana())
    late = ReferenceChange.objects.latest("pk")
    late.delete()  # not visible yet: its transaction has not committed
    ReferenceImage.objects.order_by("pk").first().save()  # a later change, applied meanwhile
    assert models.categorizer().index.entries()[moved.pk] == ("Fruit", "Banana")
    late.save()  # it commits, with its lower id
    assert models.categorizer().index.entries()[moved.pk] == ("Fruit", "Plantain")


def test_changes_are_written_into_the_file_once_enough_have_gathered(imported_catalogue, settings):
    settings.CATALOG_INDEX_COMPACT_CHANGES = ReferenceChange.objects.count() + 2
    before = file_version(settings)
    moved = move_to_plantain(a_banana())
    update_reference_index()
    assert file_version(settings) == before
    ReferenceImage.objects.order_by("pk").first().delete()
    update_reference_index()
    assert file_version(settings) != before
    stored = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    assert stored.entries()[moved.pk] == ("Fruit", "Plantain") and len(stored) == ReferenceImage.objects.count()


def test_compaction_keeps_the_answers(imported_catalogue, settings):
    move_to_plantain(a_banana())
    ReferenceImage.objects.filter(category__path="Vegetables > Carrots").first().delete()
    images = [load_image(path) for path in grocery_images("val", "Fruit/Banana", 2)
              + grocery_images("val", "Vegetables/Carrots", 2)]
    running = models.categorizer()
    assert running.index.removed_count == 2
    before = [(c.decision.path, c.decision.confidences) for c in running.categorize(images)]
    neighbours = running.index.search(running.embedder.embed(images), 10)

    assert update_index(compact=True) is not None
    compacted = models.categorizer()
    assert compacted is not running and compacted.index.removed_count == 0
    assert [(c.decision.path, c.decision.confidences) for c in compacted.categorize(images)] == before
    assert [[(n.reference_id, n.category) for n in found] for found in
            compacted.index.search(compacted.embedder.embed(images), 10)] == \
        [[(n.reference_id, n.category) for n in found] for found in neighbours]
