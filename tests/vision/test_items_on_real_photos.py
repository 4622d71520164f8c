"""The shipped segmenter on real photos it never trained on: one product is one item."""

import pytest

from tests.photos import freiburg_photo, grocery_images
from vision.boxes import match_boxes
from vision.images import load_image
from vision.segment import photo_items
from vision.unet import load_segmenter

# Grocery val photos of one carton held in a hand in front of a shelf, on which the segmenter of
# issue 5 found five and two items (the hand among them).
HELD_IN_A_HAND = (
    ("Packages/Juice/Bravo-Apple-Juice", 1),
    ("Packages/Milk/Arla-Standard-Milk", 1),
)
# Photos of the Freiburg validation part (vision.coco.validation_part) with three products boxed.
THREE_BOXED = ("Pantry/Oil/OIL0102.jpg", "Drinks/Milk/MILK0148.jpg")


@pytest.fixture(scope="module")
def segmenter():
    return load_segmenter()


@pytest.mark.parametrize("leaf, index", HELD_IN_A_HAND)
def test_a_product_held_in_a_hand_is_one_item(segmenter, leaf, index):
    image = load_image(grocery_images("val", leaf, index + 1)[index])
    [item] = photo_items(image, segmenter)
    left, top, right, bottom = item.box
    assert (right - left) * (bottom - top) < 0.9 * image.width * image.height  # the carton, not the photo


@pytest.mark.parametrize("file_name", THREE_BOXED)
def test_three_products_side_by_side_are_three_items(segmenter, file_name):
    image, boxes = freiburg_photo(file_name)
    items = photo_items(image, segmenter)
    truth = [(x, y, x + width, y + height) for x, y, width, height in boxes]
    assert len(truth) == 3 and len(items) == 3
    assert len(match_boxes([item.box for item in items], truth)) == 3
