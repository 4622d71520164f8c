import multiprocessing
import os

import numpy as np
import pytest

from vision.index import IndexMismatch, ReferenceIndex, read_manifest


def unit_vectors(rng, n, dimension):
    vectors = rng.standard_normal((n, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clustered_unit_vectors(rng, n, centres, spread=0.08):
    vectors = centres[rng.integers(0, len(centres), n)] + spread * rng.standard_normal((n, centres.shape[1]))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def make_index(vectors, approximate_from=10**9):
    index = ReferenceIndex(vectors.shape[1], "test", "test-1", approximate_from=approximate_from)
    categories = [("A", f"c{i % 3}") for i in range(len(vectors))]
    index.add(vectors, categories, list(range(100, 100 + len(vectors))))
    return index


def test_it_finds_the_reference_itself_first():
    vectors = unit_vectors(np.random.default_rng(0), 50, 16)
    index = make_index(vectors)
    best = index.search(vectors[7:8], 3)[0][0]
    assert best.reference_id == 107
    assert best.category == ("A", "c1")
    assert best.similarity == pytest.approx(1.0, abs=1e-5)


def test_a_saved_index_loads_back_identical(tmp_path):
    rng = np.random.default_rng(1)
    vectors, queries = unit_vectors(rng, 200, 32), unit_vectors(rng, 5, 32)
    index = make_index(vectors)
    version = index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    assert loaded.version == version
    assert len(loaded) == 200
    assert loaded.search(queries, 5) == index.search(queries, 5)


def test_the_manifest_describes_the_index(tmp_path):
    index = make_index(unit_vectors(np.random.default_rng(2), 10, 8))
    index.save(tmp_path / "index.npz")
    manifest = read_manifest(tmp_path / "index.npz")
    assert manifest["backbone"] == "test" and manifest["backbone_version"] == "test-1"
    assert manifest["dimension"] == 8 and manifest["count"] == 10 and manifest["kind"] == "flat"
    assert manifest["created_at"] and manifest["version"]
    assert sorted(manifest["categories"]) == [["A", "c0"], ["A", "c1"], ["A", "c2"]]


def test_each_save_gets_a_new_version(tmp_path):
    index = make_index(unit_vectors(np.random.default_rng(3), 10, 8))
    assert index.save(tmp_path / "index.npz") != index.save(tmp_path / "index.npz")


def test_references_can_be_added_after_loading(tmp_path):
    rng = np.random.default_rng(4)
    index = make_index(unit_vectors(rng, 20, 8))
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    extra = unit_vectors(rng, 1, 8)
    loaded.add(extra, [("B", "new")], [999])
    best = loaded.search(extra, 1)[0][0]
    assert (best.reference_id, best.category) == (999, ("B", "new"))
    assert len(loaded) == 21


def test_it_rejects_embeddings_of_the_wrong_dimension():
    index = make_index(unit_vectors(np.random.default_rng(5), 5, 8))
    with pytest.raises(IndexMismatch):
        index.add(np.zeros((1, 9), np.float32), [("A",)], [1])


def test_an_empty_index_returns_no_neighbours():
    assert ReferenceIndex(8, "t", "t").search(np.ones((2, 8), np.float32), 5) == [[], []]


def test_it_switches_to_an_approximate_index_past_the_threshold():
    rng = np.random.default_rng(6)
    index = make_index(unit_vectors(rng, 99, 16), approximate_from=100)
    assert not index.is_approximate
    index.add(unit_vectors(rng, 1, 16), [("A", "c0")], [1])
    assert index.is_approximate


def _recall_at_10(vectors, queries):
    exact = make_index(vectors).search(queries, 10)
    approximate_index = make_index(vectors, approximate_from=1000)
    assert approximate_index.is_approximate
    approximate = approximate_index.search(queries, 10)
    hits = [len({n.reference_id for n in e} & {n.reference_id for n in a}) for e, a in zip(exact, approximate)]
    return sum(hits) / (10 * len(queries))


def test_the_approximate_index_keeps_recall_on_uniform_random_data():
    rng = np.random.default_rng(7)
    assert _recall_at_10(unit_vectors(rng, 20_000, 64), unit_vectors(rng, 200, 64)) >= 0.95


def test_the_approximate_index_keeps_recall_on_clustered_embedding_sized_data():
    rng = np.random.default_rng(8)
    centres = unit_vectors(rng, 100, 1280)
    vectors, queries = clustered_unit_vectors(rng, 12_000, centres), clustered_unit_vectors(rng, 200, centres)
    assert _recall_at_10(vectors, queries) >= 0.95


def test_switching_to_approximate_measures_its_recall_against_exact_search(tmp_path):
    rng = np.random.default_rng(13)
    index = make_index(unit_vectors(rng, 5000, 32), approximate_from=1000)
    assert index.recall_at_10 >= 0.95
    index.save(tmp_path / "index.npz")
    manifest = read_manifest(tmp_path / "index.npz")
    assert manifest["kind"] == "hnsw" and manifest["recall_at_10"] >= 0.95 and manifest["ef_search"] >= 64


def test_an_approximate_index_survives_a_round_trip(tmp_path):
    rng = np.random.default_rng(10)
    index = make_index(unit_vectors(rng, 2000, 16), approximate_from=1000)
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    assert loaded.is_approximate
    queries = unit_vectors(rng, 5, 16)
    assert loaded.search(queries, 5) == index.search(queries, 5)


def _keep_saving(path, sizes, rounds):
    rng = np.random.default_rng(11)
    indexes = [make_index(unit_vectors(rng, n, 64)) for n in sizes]
    for round_ in range(rounds):
        indexes[round_ % len(indexes)].save(path)


def test_a_reader_during_writes_always_sees_a_whole_index(tmp_path):
    path = tmp_path / "index.npz"
    sizes = (3000, 5000)
    make_index(unit_vectors(np.random.default_rng(12), sizes[0], 64)).save(path)
    writer = multiprocessing.get_context("spawn").Process(target=_keep_saving, args=(path, sizes, 40))
    writer.start()
    seen = set()
    try:
        while writer.is_alive():
            index = ReferenceIndex.load(path)
            assert len(index) == read_manifest_count(index)
            seen.add(len(index))
    finally:
        writer.join()
    assert writer.exitcode == 0
    assert seen <= set(sizes) and len(seen) == 2
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def read_manifest_count(index):
    return index.manifest()["count"]


def test_an_index_keeps_its_novelty_space_in_its_file(tmp_path):
    rng = np.random.default_rng(0)
    vectors, novelty = unit_vectors(rng, 20, 16), unit_vectors(rng, 20, 8)
    index = ReferenceIndex(16, "adapted", "adapted-1")
    index.add(vectors, [("A", "x")] * 20, list(range(20)), novelty=novelty)
    with pytest.raises(ValueError, match="give them for every addition"):
        index.add(vectors[:1], [("A", "x")], [99])
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    similarities, rows = loaded.novelty_search(novelty[3:4], 1)
    assert loaded.has_novelty_space and rows[0][0] == 3 and similarities[0][0] == pytest.approx(1.0)


def test_a_large_index_judges_novelty_in_a_graph_too(tmp_path):
    rng = np.random.default_rng(8)
    centres = unit_vectors(rng, 10, 8)
    vectors, novelty = unit_vectors(rng, 300, 16), clustered_unit_vectors(rng, 300, centres)
    index = ReferenceIndex(16, "adapted", "adapted-1", approximate_from=200)
    index.add(vectors, [("A", "x")] * 300, list(range(300)), novelty=novelty)
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    assert loaded.is_approximate and "HNSW" in type(loaded._novelty).__name__
    assert loaded.novelty_search(novelty[7:8], 1)[1][0][0] == 7
    loaded.remove([7])
    assert loaded.novelty_search(novelty[7:8], 1)[1][0][0] != 7


def test_an_approximate_index_twice_the_size_its_search_was_tuned_on_says_so(tmp_path):
    vectors = unit_vectors(np.random.default_rng(9), 200, 8)
    index = make_index(vectors[:100], approximate_from=100)
    assert index.recall_measured_on == 100 and not index.outgrew_its_search_setting
    index.add(vectors[100:199], [("A", "c0")] * 99, list(range(300, 399)))
    assert not index.outgrew_its_search_setting
    index.add(vectors[199:], [("A", "c0")], [399])
    index.save(tmp_path / "index.npz")
    assert ReferenceIndex.load(tmp_path / "index.npz").outgrew_its_search_setting
