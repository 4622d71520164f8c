import numpy as np
import pytest

from vision.catalogue import CatalogueImage
from vision.content_keys import content_key
from vision.splits import cv_folds, holdout_split, occasion_groups


def catalogue(tmp_path, sizes):
    """Files with distinct contents, `sizes[leaf]` of each leaf."""
    images = []
    for leaf, count in sizes.items():
        for i in range(count):
            path = tmp_path / f"{leaf.replace('/', '_')}_{i}.jpg"
            path.write_bytes(f"{leaf} {i}".encode())
            images.append(CatalogueImage(str(path), tuple(leaf.split("/"))))
    return images


def test_cv_folds_contain_every_leaf_and_a_small_one_in_as_many_as_it_can(tmp_path):
    images = catalogue(tmp_path, {"F/Apple/Gala": 12, "F/Banana": 7, "V/Leek": 5, "V/Kale": 3})
    folds = cv_folds(images, 5)
    leaves_per_fold = [{image.category for image, f in zip(images, folds) if f == fold} for fold in range(5)]
    for leaf in [("F", "Apple", "Gala"), ("F", "Banana"), ("V", "Leek")]:
        assert all(leaf in leaves for leaves in leaves_per_fold)
    assert sum(("V", "Kale") in leaves for leaves in leaves_per_fold) == 3


def test_cv_folds_keep_an_occasion_together(tmp_path):
    images = catalogue(tmp_path, {"F/Banana": 10})
    groups = np.array([0, 0, 0, 1, 1, 2, 3, 4, 5, 6])
    folds = cv_folds(images, 3, groups=groups)
    assert len({folds[i] for i in (0, 1, 2)}) == 1 and folds[3] == folds[4]
    assert set(folds) == {0, 1, 2}


def test_a_split_depends_on_the_files_not_their_order(tmp_path):
    images = catalogue(tmp_path, {"F/Apple/Gala": 12, "F/Banana": 7})
    kept, held = holdout_split(images, 0.25)
    kept_again, held_again = holdout_split(list(reversed(images)), 0.25)
    assert {i.path for i in held} == {i.path for i in held_again}
    assert len(held) == 3 + 2 and not {i.path for i in kept} & {i.path for i in held}


def test_the_held_out_part_holds_every_leaf_in_whole_occasions(tmp_path):
    images = catalogue(tmp_path, {"F/Apple/Gala": 20, "F/Banana": 2, "V/Leek": 1})
    groups = np.array([0] * 14 + list(range(1, 7)) + [7, 8] + [9])  # one big occasion of Gala
    _, held = holdout_split(images, 0.2, groups=groups)
    held_paths = {i.path for i in held}
    assert {i.category for i in held} == {("F", "Apple", "Gala"), ("F", "Banana")}  # a lone photo stays in
    assert not any(images[i].path in held_paths for i in range(14))  # the big occasion is passed over
    assert sum(i.category == ("F", "Apple", "Gala") for i in held) == 4


def test_occasions_link_near_duplicates_of_one_category_only():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 32))
    vectors = np.stack([base[0], base[0] + 0.01, base[1], base[1] + 0.01, base[2]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    categories = [("A",), ("A",), ("A",), ("B",), ("A",)]
    groups = occasion_groups(categories, vectors)
    assert groups[0] == groups[1]  # twins
    assert groups[2] != groups[3]  # twins, but of two categories
    assert len(set(groups)) == 4


def test_a_content_key_is_the_same_wherever_the_photo_is(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"same photo")
    (tmp_path / "b.jpg").write_bytes(b"same photo")
    assert content_key(tmp_path / "a.jpg") == content_key(tmp_path / "b.jpg")


def test_a_split_needs_a_sensible_fraction_and_fold_count(tmp_path):
    with pytest.raises(ValueError):
        holdout_split([], 1.5)
    with pytest.raises(ValueError):
        cv_folds([], 1)
