"""Which items of a photo get categorized, with the shipped segmenter."""

from PIL import Image

from tests.photos import iconic_packshot, two_product_photo
from vision.composites import cut_out
from vision.segment import PhotoItem, photo_items
from vision.unet import load_segmenter


def one_product_photo(leaf, size=(640, 480), share=(1 / 3, 1 / 2)):
    """The product, at most `share` of the photo's width and height, on a plain backdrop."""
    photo = Image.new("RGB", size, (200, 196, 190))
    product = cut_out(iconic_packshot(leaf))
    scale = min(size[0] * share[0] / product.width, size[1] * share[1] / product.height)
    product = product.resize((round(product.width * scale), round(product.height * scale)))
    photo.paste(product, ((size[0] - product.width) // 2, (size[1] - product.height) // 2), product)
    return photo


def test_two_products_of_similar_size_are_two_items():
    items = photo_items(two_product_photo("Fruit/Banana", "Vegetables/Carrots"), load_segmenter())
    assert len(items) == 2 and all(item.coverage < 0.6 for item in items)


def test_a_photo_about_one_product_is_categorized_whole_like_the_references():
    photo = one_product_photo("Packages/Juice/Bravo-Apple-Juice", share=(0.6, 0.8))
    assert load_segmenter().segment(photo)  # the product is found...
    [item] = photo_items(photo, load_segmenter())  # ...and the photo is about it
    assert item.whole_photo and item.crop(photo).size == (480, 480)  # what the embedder sees...
    left, top, right, bottom = item.box  # ...while the box shown is the product's own
    assert 0 < left < 320 < right < 640 and 0 < top < 240 < bottom < 480 and item.coverage < 0.8


def test_a_small_lone_product_is_cropped_to_itself():
    photo = one_product_photo("Packages/Juice/Bravo-Apple-Juice")
    [item] = photo_items(photo, load_segmenter())
    left, top, right, bottom = item.box
    assert item.coverage < 0.1 and 200 < left < 320 < right < 440 and 100 < top < 240 < bottom < 380


def test_without_a_segmenter_the_whole_photo_is_one_item():
    photo = two_product_photo("Fruit/Banana", "Vegetables/Carrots")
    [item] = photo_items(photo, None)
    assert item.box == (0, 0, 720, 420) and item.outline() == []


def test_an_item_is_cropped_as_a_square_with_a_margin_around_it():
    item = PhotoItem((100, 200, 300, 250), None, 1.0, 0.01)  # a banana lying down
    assert item.crop_box((1000, 800)) == (40, 65, 360, 385)  # 200 + 2 × 60 pixels wide


def test_a_crop_at_the_edge_of_the_photo_is_shifted_inside_it():
    item = PhotoItem((0, 700, 100, 800), None, 1.0, 0.01)
    assert item.crop_box((1000, 800)) == (0, 640, 160, 800)


def test_a_crop_is_never_larger_than_the_photo_allows():
    item = PhotoItem((100, 0, 900, 800), None, 1.0, 0.8)
    assert item.crop_box((1000, 800)) == (100, 0, 900, 800)
