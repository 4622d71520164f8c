"""Which items of a photo get categorized, with the shipped segmenter."""

from PIL import Image

from tests.photos import iconic_packshot, two_product_photo
from vision.composites import cut_out
from vision.segment import load_segmenter, photo_items


def one_product_photo(leaf, size=(640, 480)):
    photo = Image.new("RGB", size, (200, 196, 190))
    product = cut_out(iconic_packshot(leaf))
    product.thumbnail((size[0] // 3, size[1] // 2))
    photo.paste(product, (size[0] // 3, size[1] // 4), product)
    return photo


def test_two_products_of_similar_size_are_two_items():
    items = photo_items(two_product_photo("Fruit/Banana", "Vegetables/Carrots"), load_segmenter())
    assert len(items) == 2 and all(item.coverage < 0.6 for item in items)


def test_a_photo_of_one_product_is_categorized_whole_like_the_references():
    photo = one_product_photo("Packages/Juice/Bravo-Apple-Juice")
    assert load_segmenter().segment(photo)  # the product is found...
    [item] = photo_items(photo, load_segmenter())  # ...and the photo is about it
    assert item.box == (0, 0, 640, 480) and item.crop(photo).size == photo.size


def test_without_a_segmenter_the_whole_photo_is_one_item():
    photo = two_product_photo("Fruit/Banana", "Vegetables/Carrots")
    [item] = photo_items(photo, None)
    assert item.box == (0, 0, 720, 420) and item.outline() == []
