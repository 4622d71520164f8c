"""With CATALOG_BATCH_PHOTOS, a worker categorizes queued photos together in one pass; each photo's
result, or failure, is its own."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.models import Listing, Photo
from tests.photos import grocery_upload
from vision.categorize import Categorizer
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db

LEAVES = ["Fruit/Banana", "Vegetables/Carrots", "Fruit/Apple/Granny-Smith"]


@pytest.fixture
def queued_photos(owner, imported_catalogue, settings):
    """Three queued photos of three listings, one of each small-catalogue leaf."""
    photos = []
    for leaf in LEAVES:
        listing = Listing.objects.create(seller=owner, title=leaf)
        photo = Photo(listing=listing, original_name="photo.jpg")
        photo.image.save("photo.jpg", grocery_upload(leaf), save=True)
        photos.append(photo)
    return photos


def results():
    return {photo.pk: (photo.status, [(item.box, item.category_id, item.confidence) for item in photo.items.all()])
            for photo in Photo.objects.prefetch_related("items")}


def test_one_task_categorizes_the_queued_photos_as_each_alone_would(queued_photos, settings):
    settings.CATALOG_BATCH_PHOTOS = 3
    categorize_photo(queued_photos[0].id)
    together = results()
    assert [status for status, _ in together.values()] == ["done"] * 3
    assert [Photo.objects.get(pk=photo.pk).items.first().category.path for photo in queued_photos] == \
        [leaf.replace("/", " > ") for leaf in LEAVES]

    settings.CATALOG_BATCH_PHOTOS = 1
    Photo.objects.update(status="queued", attempts=0)
    for photo in queued_photos:
        categorize_photo(photo.id)
    assert results() == together


def test_a_corrupt_photo_in_the_pass_fails_alone(queued_photos, settings):
    settings.CATALOG_BATCH_PHOTOS = 3
    corrupt = queued_photos[1]
    corrupt.image.save("broken.jpg", ContentFile(b"\xff\xd8 not really a jpeg"), save=True)
    categorize_photo(queued_photos[0].id)
    statuses = {photo.pk: (photo.status, photo.failure_reason) for photo in Photo.objects.all()}
    assert statuses[queued_photos[0].pk] == ("done", "") and statuses[queued_photos[2].pk] == ("done", "")
    assert statuses[corrupt.pk][0] == "failed" and "image" in statuses[corrupt.pk][1].lower()


def test_a_photo_held_in_another_pass_is_skipped_by_its_own_task(queued_photos):
    held = queued_photos[1]
    Photo.objects.filter(pk=held.pk).update(status="processing", held_until=timezone.now() + timedelta(minutes=5))
    categorize_photo(held.id)
    assert Photo.objects.get(pk=held.pk).status == "processing"
    Photo.objects.filter(pk=held.pk).update(held_until=timezone.now() - timedelta(seconds=1))  # its pass died
    categorize_photo(held.id)
    assert Photo.objects.get(pk=held.pk).status == "done"


def test_when_the_pass_breaks_the_others_go_back_to_their_own_tasks(queued_photos, settings, monkeypatch):
    settings.CATALOG_BATCH_PHOTOS = 3
    one_at_a_time = Categorizer.categorize_photos

    def breaks_on_several(self, images, *args, **kwargs):
        if len(images) > 1:
            raise RuntimeError("a photo broke the pass")
        return one_at_a_time(self, images, *args, **kwargs)

    monkeypatch.setattr(Categorizer, "categorize_photos", breaks_on_several)
    categorize_photo(queued_photos[0].id)
    after = {photo.pk: (photo.status, photo.held_until) for photo in Photo.objects.all()}
    assert after[queued_photos[0].pk][0] == "done"
    assert after[queued_photos[1].pk] == ("queued", None) and after[queued_photos[2].pk] == ("queued", None)
    categorize_photo(queued_photos[1].id)  # a photo once in a pass runs alone: no companions
    assert Photo.objects.get(pk=queued_photos[1].pk).status == "done"
    assert Photo.objects.get(pk=queued_photos[2].pk).status == "queued"
