"""Several photos categorized together (one segmentation pass, one embedding pass) give what each
gives alone."""

import numpy as np

from tests.photos import grocery_images
from tests.vision.test_unlike_items_dropped import banana_beside_a_carton, categorizer  # noqa: F401
from vision.images import load_image
from vision.unet import load_segmenter


def summary(found):
    return [(item.box, item.whole_photo, result.decision.path, result.decision.outcome,
             result.assignment.neighbours[0].reference_id) for item, result in found]


def test_photos_categorized_together_get_what_each_gets_alone(categorizer):  # noqa: F811
    segmenter = load_segmenter()
    photos = [banana_beside_a_carton(), *(load_image(path) for path in
                                          grocery_images("val", "Vegetables/Carrots", 2))]
    alone = [categorizer.categorize_photo(photo, segmenter) for photo in photos]
    together = categorizer.categorize_photos(photos, segmenter)
    assert [summary(found) for found in together] == [summary(found) for found in alone]
    for batched, single in zip(together, alone):
        for (_, b), (_, s) in zip(batched, single):
            assert np.allclose(b.decision.confidences, s.decision.confidences, atol=1e-4)
            assert np.allclose(b.embedding, s.embedding, atol=1e-4)


def test_no_photos_is_no_work(categorizer):  # noqa: F811
    assert categorizer.categorize_photos([], load_segmenter()) == []
