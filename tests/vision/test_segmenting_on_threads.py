"""A pass of photos is made into items on several threads, each photo exactly as on one."""

import numpy as np

from tests.photos import freiburg_instances, freiburg_photo, grocery_images
from vision.images import load_image
from vision.unet import load_segmenter


def test_photos_segmented_on_threads_get_the_items_of_one_thread():
    boxed = [image["file_name"] for image in freiburg_instances()["images"][:3]]
    photos = [freiburg_photo(name)[0] for name in boxed] + [load_image(grocery_images("val", "Fruit/Banana", 1)[0])]
    segmenter = load_segmenter()
    one_thread = segmenter.segment_many(photos, threads=1)
    on_threads = segmenter.segment_many(photos, threads=3)
    assert sum(len(items) for items in one_thread) > len(photos)  # photos of several items, not empty ones
    boxes = [[[item.box for item in items] for items in found] for found in (on_threads, one_thread)]
    assert boxes[0] == boxes[1]
    for threaded, single in zip(on_threads, one_thread):
        assert all(np.array_equal(a.mask, b.mask) for a, b in zip(threaded, single))
