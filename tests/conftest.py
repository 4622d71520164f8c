import os
import shutil

import pytest

GROCERY = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "grocery-store", "dataset")

# Three leaves at two depths, visually distinct: enough for the real backbone to separate.
SMALL_CATALOGUE_LEAVES = ("Fruit/Banana", "Fruit/Apple/Granny-Smith", "Vegetables/Carrots")


def grocery_images(split, leaf, count):
    folder = os.path.join(GROCERY, split, leaf)
    if not os.path.isdir(folder):
        pytest.skip(f"the Grocery Store dataset is not at {GROCERY}")
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))[:count]]


def copy_small_catalogue(destination, split, per_leaf):
    for leaf in SMALL_CATALOGUE_LEAVES:
        target = destination / leaf
        target.mkdir(parents=True)
        for path in grocery_images(split, leaf, per_leaf):
            shutil.copy(path, target)
    return destination


@pytest.fixture
def small_catalogue(tmp_path):
    """(reference root, query root): Grocery train photos as references, val photos as queries."""
    return (copy_small_catalogue(tmp_path / "reference", "train", 8),
            copy_small_catalogue(tmp_path / "queries", "val", 3))
