"""A worker's index leaves the rows of removed or replaced references out of every search."""

import numpy as np
import pytest

from tests.vision.test_index import make_index, unit_vectors
from vision.index import ReferenceIndex


@pytest.mark.parametrize("approximate_from", [10**9, 100], ids=["flat", "hnsw"])
def test_a_removed_reference_is_never_found(approximate_from):
    vectors = unit_vectors(np.random.default_rng(0), 300, 16)
    index = make_index(vectors, approximate_from)
    assert index.is_approximate == (approximate_from == 100)
    index.remove([107])
    found = index.search(vectors[7:8], 10)[0]
    assert len(found) == 10 and 107 not in {n.reference_id for n in found}
    assert index.search(vectors[8:9], 1)[0][0].reference_id == 108


def test_a_replaced_reference_is_found_as_it_is_now():
    vectors = unit_vectors(np.random.default_rng(1), 30, 8)
    index = make_index(vectors)
    index.remove([105])
    index.add(vectors[5:6], [("B", "new")], [105])
    assert index.search(vectors[5:6], 1)[0][0].category == ("B", "new")
    assert index.entries()[105] == ("B", "new") and index.held_paths([105, 106]) == {105: ("B", "new"),
                                                                                        106: ("A", "c0")}
    assert index.removed_count == 1


def test_rows_removed_before_the_index_turns_approximate_stay_removed():
    vectors = unit_vectors(np.random.default_rng(2), 150, 16)
    index = make_index(vectors[:50], approximate_from=100)
    index.remove([107])
    index.add(vectors[50:], [("A", "c0")] * 100, list(range(150, 250)))
    assert index.is_approximate
    assert 107 not in {n.reference_id for n in index.search(vectors[7:8], 10)[0]}


def test_the_novelty_space_leaves_removed_rows_out_too():
    rng = np.random.default_rng(3)
    vectors, novelty = unit_vectors(rng, 20, 8), unit_vectors(rng, 20, 4)
    index = ReferenceIndex(8, "adapted", "adapted-1")
    index.add(vectors, [("A",)] * 20, list(range(20)), novelty=novelty)
    index.remove([3])
    similarities, rows = index.novelty_search(novelty[3:4], 1)
    assert rows[0, 0] != 3 and similarities[0, 0] < 0.999


def test_an_index_with_removed_rows_is_not_saved(tmp_path):
    index = make_index(unit_vectors(np.random.default_rng(4), 10, 8))
    index.remove([101])
    with pytest.raises(ValueError, match="removed rows"):
        index.save(tmp_path / "index.npz")


def test_the_revision_names_the_file_and_the_changes_applied_since(tmp_path):
    index = make_index(unit_vectors(np.random.default_rng(5), 10, 8))
    index.applied_change = 41
    version = index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    assert loaded.applied_change == 41 and loaded.revision == f"{version}@41"


@pytest.mark.parametrize("approximate_from", [10**9, 100], ids=["flat", "hnsw"])
def test_a_loaded_index_takes_new_rows_as_before(tmp_path, approximate_from):
    vectors = unit_vectors(np.random.default_rng(6), 300, 16)
    make_index(vectors[:250], approximate_from).save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    loaded.add(vectors[250:], [("B", "new")] * 50, list(range(1000, 1050)))
    assert len(loaded) == 300 and loaded.search(vectors[260:261], 1)[0][0].reference_id == 1010
    assert loaded.search(vectors[5:6], 1)[0][0].reference_id == 105
