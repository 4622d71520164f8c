"""Beside a photo's main item, an item unlike anything in the catalogue is dropped."""

import numpy as np
import pytest
from PIL import Image

from tests.photos import copy_small_catalogue, grocery_images, iconic_packshot, two_product_photo
from vision import outcomes
from vision.backbones import get_backbone
from vision.catalogue import scan_catalogue
from vision.categorize import Categorizer
from vision.composites import cut_out
from vision.embedder import Embedder
from vision.experiment import embed_catalogue, make_index, with_occasions
from vision.images import load_image
from vision.unet import load_segmenter
from vision.vote import VoteConfig


@pytest.fixture(scope="module")
def categorizer(tmp_path_factory):
    """Bananas, Granny Smiths and carrots: 24 Grocery photos of each, calibrated as the app does."""
    reference = copy_small_catalogue(tmp_path_factory.mktemp("catalogue"), "train", 24)
    embedder = Embedder(get_backbone("efficientnet_lite0"))
    embedded = with_occasions(embed_catalogue(scan_catalogue(reference), embedder, 32, "references"))
    index = make_index(embedded, np.arange(len(embedded.images)), embedder, VoteConfig())
    assert index.calibration is not None
    return Categorizer(embedder, index)


def banana_beside_a_carton():
    """A real shelf photo of bananas, and beside it a juice carton the catalogue does not have."""
    photo = Image.new("RGB", (720, 420), (200, 196, 190))
    photo.paste(load_image(grocery_images("val", "Fruit/Banana", 1)[0]).resize((320, 320)), (20, 50))
    carton = cut_out(iconic_packshot("Packages/Juice/Bravo-Apple-Juice"))
    carton = carton.resize((round(carton.width * 380 / carton.height), 380))
    photo.paste(carton, (540 - carton.width // 2, 20), carton)
    return photo


def test_a_product_the_catalogue_lacks_beside_the_main_one_is_dropped(categorizer):
    photo = banana_beside_a_carton()
    kept = categorizer.categorize_photo(photo, load_segmenter(), drop_unlike=False)
    [carton] = [result for item, result in kept if item.box[0] > 400]
    assert carton.decision.outcome == outcomes.NOT_IN_CATALOGUE
    assert kept[0][1].decision.predicted == ("Fruit", "Banana")
    found = categorizer.categorize_photo(photo, load_segmenter())
    assert found[0][0].box == kept[0][0].box and not [item for item, _ in found if item.box[0] > 400]
    assert all(result.decision.outcome != outcomes.NOT_IN_CATALOGUE for _, result in found)


def test_the_main_item_stays_even_when_nothing_in_the_catalogue_is_like_it(categorizer):
    photo = two_product_photo("Packages/Juice/Bravo-Apple-Juice", "Packages/Milk/Arla-Standard-Milk")
    found = categorizer.categorize_photo(photo, load_segmenter())
    assert found and found[0][1].decision.outcome == outcomes.NOT_IN_CATALOGUE
