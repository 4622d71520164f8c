"""A seller removes a photo while a worker categorizes it: the removal wins. The worker's result is
dropped (the photo does not come back, done, with files already deleted) and nothing it wrote is left."""

import pytest
from django.core.files.storage import default_storage

from catalog.models import Item, Photo
from tests.photos import grocery_upload
from worker.categorizing import _decoded, _save_results, claim
from worker.models_cache import models

pytestmark = pytest.mark.django_db


def test_a_photo_removed_while_it_is_categorized_stays_removed(imported_catalogue, owner_client, listing,
                                                               django_capture_on_commit_callbacks):
    owner_client.post(f"/listings/{listing.uuid}/add-photos", {"photos": [grocery_upload("Fruit/Banana")]})
    photo = listing.photos.order_by("pk").last()
    # The seller's page asked for it first: its display copies exist before the worker takes it.
    assert owner_client.get(f"/photos/{photo.uuid}/image?size=display").status_code == 200
    claimed = claim(photo.pk, new_attempt=True)
    stored = [claimed.image.name, claimed.display.name, claimed.thumbnail.name]
    image = _decoded(claimed)
    categorizer, segmenter = models.categorizer(), models.segmenter()
    found = categorizer.categorize_photos([image], segmenter)[0]  # the worker's pass, before the removal

    with django_capture_on_commit_callbacks(execute=True):  # its files go once the removal commits
        owner_client.post(f"/listings/{listing.uuid}/photos/{photo.uuid}/remove")
    with pytest.raises(Photo.DoesNotExist):  # the task drops it quietly (worker.policy.deleted)
        _save_results(claimed, image, found, categorizer, segmenter)

    assert not Photo.objects.filter(pk=photo.pk).exists() and not Item.objects.filter(photo_id=photo.pk).exists()
    assert listing.photos.count() == 1
    assert not any(default_storage.exists(name) for name in stored)
