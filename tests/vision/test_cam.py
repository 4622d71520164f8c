import numpy as np
import pytest
import torch

from vision.cam import (
    activation_map,
    covered_region,
    explained_category,
    head_is_stale,
    heatmap_overlay,
    refresh_head,
    train_head,
)
from vision.index import ReferenceIndex

CATEGORIES = [("Fruit", "Banana"), ("Fruit", "Apple"), ("Vegetables", "Carrots")]


def _clustered_index(per_category=20, dimension=16, seed=0):
    """Unit vectors in one tight cluster per category."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(CATEGORIES), dimension))
    index = ReferenceIndex(dimension, "test", "test-1")
    for category_id, centre in enumerate(centres):
        vectors = centre + 0.1 * rng.normal(size=(per_category, dimension))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        start = len(index)
        index.add(vectors, [CATEGORIES[category_id]] * per_category, list(range(start, start + per_category)))
    return index, centres / np.linalg.norm(centres, axis=1, keepdims=True)


def test_the_head_scores_each_reference_highest_for_its_own_category():
    index, _ = _clustered_index()
    vectors, labels = index.labelled_vectors()
    head = train_head(vectors, labels, len(index.categories))
    predicted = np.argmax(vectors @ head.weights.T + head.bias, axis=1)
    assert (predicted == labels).mean() == 1.0 and head.trained_on == len(index)


def test_the_map_peaks_where_the_category_features_are():
    index, centres = _clustered_index()
    refresh_head(index)
    feature_map = torch.zeros(16, 7, 7)
    feature_map[:, 2, 5] = torch.as_tensor(centres[2], dtype=torch.float32)  # carrots at one spot
    feature_map[:, 5, 1] = torch.as_tensor(centres[0], dtype=torch.float32)  # banana at another
    carrots = activation_map(feature_map, index.head, 2)
    assert carrots.shape == (7, 7) and carrots.max() == 1.0
    assert np.unravel_index(np.argmax(carrots), carrots.shape) == (2, 5)
    assert np.unravel_index(np.argmax(activation_map(feature_map, index.head, 0)), (7, 7)) == (5, 1)


def test_an_interior_assignment_is_explained_by_its_best_leaf():
    index, centres = _clustered_index()
    refresh_head(index)
    looks_like_an_apple = centres[1]
    assert explained_category(index.head, index.categories, looks_like_an_apple, ("Fruit",)) == 1
    assert explained_category(index.head, index.categories, looks_like_an_apple, ("Vegetables",)) == 2
    assert explained_category(index.head, index.categories, looks_like_an_apple, ()) == 1


def test_the_head_is_retrained_only_when_the_references_changed_enough():
    index, centres = _clustered_index()
    assert head_is_stale(index) and refresh_head(index)
    assert not head_is_stale(index)
    index.add(centres[:1], [CATEGORIES[0]], [1000])
    assert not refresh_head(index)  # one more reference out of 60
    index.add(centres[:1], [("Dairy", "Milk")], [1001])
    assert refresh_head(index) and len(index.head.weights) == len(index.categories) == 4


def test_the_head_survives_saving_and_loading_the_index(tmp_path):
    index, centres = _clustered_index()
    refresh_head(index)
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    np.testing.assert_allclose(loaded.head.scores(centres[0]), index.head.scores(centres[0]), rtol=1e-6)
    assert loaded.head.trained_on == len(index)


def test_an_index_without_a_head_loads_without_one(tmp_path):
    index, _ = _clustered_index()
    index.save(tmp_path / "index.npz")
    assert ReferenceIndex.load(tmp_path / "index.npz").head is None


@pytest.mark.parametrize("size, expected", [((400, 200), (100, 0, 300, 200)), ((200, 400), (0, 100, 200, 300))])
def test_the_covered_region_is_the_centre_square_a_centre_crop_keeps(size, expected):
    assert covered_region(size, 224, 224) == expected


def test_the_overlay_is_hot_and_opaque_where_the_map_is_and_clear_elsewhere():
    activation = np.zeros((7, 7), np.float32)
    activation[3, 3] = 1.0
    overlay = np.asarray(heatmap_overlay(activation, (1000, 500), covered_region((1000, 500), 224, 224)))
    assert overlay.shape == (256, 512, 4)  # capped at 512 on the long side
    assert overlay[:, :128, 3].max() == 0 and overlay[:, 384:, 3].max() == 0  # outside the centre square
    hottest = overlay[128, 256]
    assert hottest[3] > 150 and hottest[0] > 200 and hottest[2] < 50  # red and nearly opaque
    assert overlay[5, 133, 3] < 10  # a cold corner of the square stays see-through
