"""A seller removes a photo while a worker categorizes it: the removal wins. The worker's result is
dropped (the photo does not come back, done, with files already deleted) and nothing it wrote is left."""

import pytest
from django.core.files.storage import default_storage

from catalog.models import Item, Photo
from tests.photos import grocery_upload
from worker import categorizing
from worker.categorizing import _decoded, _save_results, claim
from worker.models_cache import models

pytestmark = pytest.mark.django_db


@pytest.fixture
def mid_categorization(imported_catalogue, owner_client, listing, django_capture_on_commit_callbacks):
    """(claimed photo, its decoded image, the worker's pass over it, remove()): a second photo of
    the listing, shown on the seller's page first (its display copies exist), claimed and
    categorized by a worker that has not saved yet; remove() takes it out as the seller does."""
    owner_client.post(f"/listings/{listing.uuid}/add-photos", {"photos": [grocery_upload("Fruit/Banana")]})
    photo = listing.photos.order_by("pk").last()
    assert owner_client.get(f"/photos/{photo.uuid}/image?size=display").status_code == 200
    claimed = claim(photo.pk, new_attempt=True)
    image = _decoded(claimed)
    found = models.categorizer().categorize_photos([image], models.segmenter())[0]

    def remove():
        with django_capture_on_commit_callbacks(execute=True):  # its files go once the removal commits
            owner_client.post(f"/listings/{listing.uuid}/photos/{photo.uuid}/remove")
    return claimed, image, found, remove


def _saved(claimed, image, found):
    with pytest.raises(Photo.DoesNotExist):  # the task drops it quietly (worker.policy.deleted)
        _save_results(claimed, image, found, models.categorizer(), models.segmenter())


def _left(claimed):
    return [name for name in (claimed.image.name, claimed.display.name, claimed.thumbnail.name)
            if default_storage.exists(name)]


def test_a_photo_removed_before_its_result_is_saved_stays_removed(mid_categorization, listing):
    claimed, image, found, remove = mid_categorization
    remove()
    _saved(claimed, image, found)
    assert not Photo.objects.filter(pk=claimed.pk).exists() and not Item.objects.filter(photo_id=claimed.pk).exists()
    assert listing.photos.count() == 1 and _left(claimed) == []


def test_a_photo_removed_while_its_heatmaps_are_made_leaves_none_of_them(mid_categorization, monkeypatch):
    # Removed after the worker read the photo's files and before it locked the photo to save.
    claimed, image, found, remove = mid_categorization
    made = []
    attach = categorizing.attach_heatmap

    def attach_then_remove(item, *args):
        attach(item, *args)
        made.append(item.heatmap.name)
        if len(made) == len(found):
            remove()
    monkeypatch.setattr(categorizing, "attach_heatmap", attach_then_remove)
    _saved(claimed, image, found)
    assert made and all(made) and not any(default_storage.exists(name) for name in made)
    assert not Photo.objects.filter(pk=claimed.pk).exists() and _left(claimed) == []
