"""Segmentation in the pipeline: every item of a photo found, boxed and categorized on its own."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from catalog.models import Photo
from tests.photos import two_product_photo
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_product_photo_in_listing(listing):
    photo = listing.photos.get()
    image = two_product_photo("Fruit/Banana", "Vegetables/Carrots")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    photo.image.save("two.jpg", ContentFile(buffer.getvalue()), save=False)
    photo.width, photo.height = image.size
    photo.save()
    return photo


def test_it_finds_two_products_in_one_photo_and_categorizes_each(two_product_photo_in_listing, imported_catalogue):
    categorize_photo(two_product_photo_in_listing.id)
    photo = Photo.objects.get()
    items = sorted(photo.items.all(), key=lambda item: item.box[0])
    assert photo.status == "done" and len(items) == 2
    assert [item.category.path for item in items] == ["Fruit > Banana", "Vegetables > Carrots"]
    assert items[0].box[2] <= 360 <= items[1].box[0]  # one product on each half
    assert all(item.outline and len(item.outline[0]) >= 3 for item in items)


def test_the_photo_records_the_segmenter_that_found_its_items(two_product_photo_in_listing, imported_catalogue):
    categorize_photo(two_product_photo_in_listing.id)
    assert "+segmenter:detector_lite0-" in Photo.objects.get().model_version


def test_with_segmentation_off_the_whole_photo_is_one_item(two_product_photo_in_listing, imported_catalogue,
                                                           settings):
    settings.CATALOG_SEGMENTER = ""
    categorize_photo(two_product_photo_in_listing.id)
    photo = Photo.objects.get()
    assert photo.items.get().box == [0, 0, 720, 420] and "segmenter" not in photo.model_version


def test_a_segmenter_that_is_not_installed_fails_the_photo_with_a_reason(banana_photo, imported_catalogue,
                                                                         settings):
    settings.CATALOG_SEGMENTER = "not_installed"
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "not set up on this server" in photo.failure_reason


def test_each_item_gets_a_heatmap_of_its_best_guess_which_no_runner_up_repeats(two_product_photo_in_listing,
                                                                               imported_catalogue):
    categorize_photo(two_product_photo_in_listing.id)
    for item in Photo.objects.get().items.all():
        left, top, right, bottom = item.crop_box
        assert left <= item.box[0] and top <= item.box[1] and right >= item.box[2] and bottom >= item.box[3]
        assert item.heatmap_category == item.predicted_path  # what the review card calls the best guess
        assert item.predicted_path not in [alternative["path"] for alternative in item.alternatives]
        assert len(item.activation) == 7 and max(map(max, item.activation)) == 255
        with Image.open(item.heatmap.path) as heatmap:
            assert heatmap.format == "PNG" and heatmap.mode == "RGBA"
            assert abs(heatmap.width / heatmap.height - (right - left) / (bottom - top)) < 0.02


def test_each_item_keeps_its_embedding_and_the_confidence_the_queue_sorts_by(two_product_photo_in_listing,
                                                                             imported_catalogue):
    categorize_photo(two_product_photo_in_listing.id)
    for item in Photo.objects.get().items.all():
        embedding = np.frombuffer(item.embedding, np.float32)
        assert embedding.shape == (1280,) and abs(np.linalg.norm(embedding) - 1) < 1e-4
        assert item.embedding_version == "efficientnet_lite0-imagenet-1"
        assert item.confidence == item.confidences[-1] > 0
        assert all(neighbour["shared"] for neighbour in item.neighbours)  # imported references only
