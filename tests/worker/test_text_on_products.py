"""The worker reads the text on a listing's first photo (vision.text, real OCR): kept per item for
staff and the API, and a title suggested from the main item's text."""

import pytest
from django.core.files.base import ContentFile

from catalog.models import Photo
from tests.photos import grocery_upload
from vision.text import ENGINE
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db
YOGHURT = "Packages/Yoghurt/Yoggi-Vanilla-Yoghurt"


@pytest.fixture
def yoghurt_photo(listing, settings):
    settings.CATALOG_SEGMENTER = ""  # the whole photo is the item: the test is about the text
    photo = listing.photos.get()
    photo.image.save("photo.jpg", grocery_upload(YOGHURT), save=True)
    return photo


def _text_of(photo):
    return " ".join(line[0] for item in photo.items.all() for line in item.text_read).lower()


def test_the_text_on_the_product_is_kept_and_a_title_suggested(yoghurt_photo, imported_catalogue):
    categorize_photo(yoghurt_photo.id)
    photo = Photo.objects.get(pk=yoghurt_photo.pk)
    assert "vanilj" in _text_of(photo) and "vanilj" in photo.suggested_title.lower()
    assert photo.model_version.endswith(f"+text:{ENGINE}")


def test_only_a_listings_first_photo_is_read(yoghurt_photo, imported_catalogue):
    second = Photo(listing=yoghurt_photo.listing, original_name="again.jpg", width=348, height=348)
    second.image.save("again.jpg", ContentFile(grocery_upload(YOGHURT).read()), save=True)
    categorize_photo(second.id)
    second.refresh_from_db()
    assert second.status == "done" and _text_of(second) == "" and second.suggested_title == ""


def test_reading_can_be_turned_off(yoghurt_photo, imported_catalogue, settings):
    settings.CATALOG_READ_TEXT = False
    categorize_photo(yoghurt_photo.id)
    photo = Photo.objects.get(pk=yoghurt_photo.pk)
    assert photo.status == "done" and _text_of(photo) == "" and "+text:" not in photo.model_version
