"""A product detector's main item is categorized on the whole photo where the photo names its department."""

import numpy as np
import pytest

from tests.photos import copy_small_catalogue, grocery_images, two_product_photo
from vision.backbones import get_backbone
from vision.catalogue import scan_catalogue
from vision.categorize import Categorizer, main_item_seen_whole, shown_whole
from vision.embedder import Embedder
from vision.experiment import embed_catalogue, make_index, with_occasions
from vision.images import load_image
from vision.segment import PhotoItem, photo_items, whole_photo_item
from vision.unet import load_segmenter
from vision.vote import VoteConfig


@pytest.fixture(scope="module")
def categorizer(tmp_path_factory):
    """Bananas, Granny Smiths and carrots: 24 Grocery train photos of each, calibrated as the app does."""
    reference = copy_small_catalogue(tmp_path_factory.mktemp("catalogue"), "train", 24)
    embedder = Embedder(get_backbone("efficientnet_lite0"))
    embedded = with_occasions(embed_catalogue(scan_catalogue(reference), embedder, 32, "references"))
    return Categorizer(embedder, make_index(embedded, np.arange(len(embedded.images)), embedder, VoteConfig()))


@pytest.fixture(scope="module")
def detector():
    return load_segmenter("detector_lite0")


def test_a_shelf_of_one_product_is_decided_by_the_photo_seen_whole(categorizer, detector):
    # A crate of Granny Smiths: the detector boxes apples one by one, the references show crates.
    photo = load_image(grocery_images("val", "Fruit/Apple/Granny-Smith", 1)[0])
    found = categorizer.categorize_photo(photo, detector, drop_unlike=False)
    [whole] = categorizer.categorize([whole_photo_item(photo.size).crop(photo)])
    assert len(found) > 2
    main, result = found[0]
    assert main.whole_photo and main.box != (0, 0, *photo.size)  # its box stays the apple's
    assert np.allclose(result.embedding, whole.embedding, atol=1e-4)  # batched with the crops: not to the last bit
    assert result.decision.path == whole.decision.path == ("Fruit", "Apple", "Granny-Smith")
    assert not any(item.whole_photo for item, _ in found[1:])  # the other apples are categorized on their crops


def test_products_of_two_departments_keep_their_own_answers(categorizer, detector):
    found = categorizer.categorize_photo(two_product_photo("Fruit/Banana", "Vegetables/Carrots"), detector,
                                       drop_unlike=False)
    answers = {result.decision.predicted for _, result in found}
    assert len(found) == 2 and answers == {("Fruit", "Banana"), ("Vegetables", "Carrots")}


def test_a_photo_that_names_another_department_leaves_the_main_item_its_own_answer(categorizer):
    banana, carrots, apples = categorizer.categorize([load_image(grocery_images("val", leaf, 1)[0]) for leaf in (
        "Fruit/Banana", "Vegetables/Carrots", "Fruit/Apple/Granny-Smith")])
    item = PhotoItem((10, 10, 60, 60), None, 1.0, 0.05)
    assert main_item_seen_whole(item, banana, carrots) == (item, banana)
    seen, result = main_item_seen_whole(item, banana, apples)  # the same department: the photo decides
    assert seen.whole_photo and seen.box == item.box and result is apples


def test_an_item_the_photo_seen_whole_cuts_is_not_looked_at_whole():
    # The embedder sees a photo's centre square: of a 720 x 420 photo, x from 150 to 570.
    wide = (720, 420)
    assert shown_whole(PhotoItem((200, 50, 500, 400), None, 1.0, 0.35), wide)
    assert not shown_whole(PhotoItem((20, 50, 300, 400), None, 1.0, 0.32), wide)  # half of it left of the view
    assert not shown_whole(PhotoItem((200, 50, 500, 400), None, 1.0, 0.35, whole_photo=True), wide)


def test_a_unet_main_item_is_categorized_as_the_unet_found_it(categorizer):
    # Only a detector's main item is looked at whole: the UNet's lone-item rule already decides that.
    photo = load_image(grocery_images("val", "Fruit/Apple/Granny-Smith", 1)[0])
    unet = load_segmenter("unet_lite0_real")
    found = categorizer.categorize_photo(photo, unet, drop_unlike=False)
    assert [item.whole_photo for item, _ in found] == [item.whole_photo for item in photo_items(photo, unet)]
