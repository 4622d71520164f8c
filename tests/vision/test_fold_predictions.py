"""An embedder trained on every reference is calibrated on what its fold models saw (vision.fold_predictions)."""

import logging
import shutil

import numpy as np

from tests.vision.test_calibration import LEAVES, references, space, unit  # noqa: F401 (space: a fixture)
from vision.calibration import MIN_CALIBRATION_QUERIES, calibration_is_stale, fit_calibration, left_out_predictions
from vision.catalogue import scan_catalogue
from vision.content_keys import content_key, key_number
from vision.fold_predictions import FoldPredictions, of_weights
from vision.index import ReferenceIndex
from vision.model_weights import Weights
from vision.training import fold_predictions as script
from vision.vote import VoteConfig


def key(row):
    return f"{row + 1:016x}"


def trained_index(vectors, labels, untrained=0):
    """Every row but the first `untrained` trained on by the embedder, each its own occasion;
    novelty is judged in frozen features of their own, as for every adapted embedder (here: the
    same vectors)."""
    index = ReferenceIndex(vectors.shape[1], "test", "test-1")
    rows = list(range(len(labels)))
    index.add(vectors, [LEAVES[i] for i in labels], rows, np.arange(len(labels)) >= untrained, novelty=vectors,
              keys=[key(r) for r in rows])
    return index


def fold_predictions_of(fold_vectors, asked, count=100):
    """What a fold model with these embeddings found near the rows `asked`, every other row a candidate."""
    similarities = fold_vectors[asked] @ fold_vectors.T
    similarities[np.arange(len(asked)), asked] = -np.inf
    order = np.argsort(-similarities, axis=1)[:, :count]
    return FoldPredictions(np.array([key_number(key(r)) for r in asked], np.uint64),
                           np.array([[key_number(key(r)) for r in row] for row in order], np.uint64),
                           np.take_along_axis(similarities, order, axis=1).astype(np.float32), "fold model test-0")


def test_an_index_of_photos_its_embedder_trained_on_is_calibrated_on_its_fold_models_predictions(space):  # noqa: F811
    vectors, labels = references(space)
    index = trained_index(vectors, labels)
    assert fit_calibration(index) is None and not calibration_is_stale(index)
    rng = space[0]
    # The fold model saw the photos a little differently: its own embeddings.
    folds = fold_predictions_of(unit(vectors + 0.03 * rng.standard_normal(vectors.shape)), np.arange(0, 120, 2))
    assert calibration_is_stale(index, folds)
    calibration = fit_calibration(index, folds=folds)
    assert calibration is not None and calibration.queries == 60
    assert calibration.source == "60 references it trained on, as its fold models saw them (fold model test-0)"
    # 40 photos it never saw (20 of them asked of the fold model too): its own left-out predictions
    # of them, beside the folds' of the 40 others.
    assert fit_calibration(trained_index(vectors, labels, untrained=40), folds=folds).source == \
        "40 left-out references the embedder did not train on and 40 references it trained on, as its fold models " \
        "saw them (fold model test-0)"
    index.calibration = calibration
    assert not calibration_is_stale(index, folds)
    assert calibration_is_stale(index)  # its fold predictions gone: refitted on what is left (nothing)
    assert calibration_is_stale(index, fold_predictions_of(vectors, np.arange(0, 120, 3)))  # others
    index.calibration = None
    too_few = fold_predictions_of(vectors, np.arange(MIN_CALIBRATION_QUERIES - 1))
    assert fit_calibration(index, folds=too_few) is None and not calibration_is_stale(index, too_few)


def test_a_fold_models_neighbours_are_read_against_the_index_as_it_is_now(space):  # noqa: F811
    vectors, labels = references(space, per_leaf=3)  # 12 rows
    index = ReferenceIndex(vectors.shape[1], "test", "test-1")
    categories = [LEAVES[i] for i in labels]
    categories[3] = ("Vegetables", "Kale")  # re-categorized since the fold model's time
    groups = list(range(12))
    groups[1] = groups[0]  # row 1 is of row 0's occasion here
    keys = [key(r) for r in range(12)]
    keys[5] = keys[0]  # a copy of row 0's photo
    index.add(vectors, categories, list(range(12)), np.ones(12, bool), groups, keys=keys)
    index.remove([2])
    neighbours = [key(r) for r in (1, 2, 3, 5, 40, 4, 6)]  # 40: a photo the index does not hold
    folds = FoldPredictions(np.array([key_number(key(0))], np.uint64),
                            np.array([[key_number(k) for k in neighbours]], np.uint64),
                            np.linspace(0.9, 0.6, len(neighbours))[None].astype(np.float32), "fold")
    truths, assignments, occasions = left_out_predictions(index, VoteConfig(k=2, evidence_k=3), folds=folds)
    assert truths == [categories[0]] and occasions == [groups[0]]
    assert [(n.reference_id, n.category) for n in assignments[0].context] == \
        [(3, ("Vegetables", "Kale")), (4, categories[4]), (6, categories[6])]
    # Fewer neighbours here than vote: the index holds too little of what the fold model saw to read it.
    assert left_out_predictions(index, VoteConfig(k=4, evidence_k=4), folds=folds)[0] == []


def test_the_file_the_weights_name_is_read_from_the_weights_folder(tmp_path, monkeypatch, caplog):
    folds = fold_predictions_of(unit(np.random.default_rng(1).standard_normal((40, 8))), np.arange(10), count=5)
    folds.save(tmp_path / "shop.folds.npz")
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path))
    weights = Weights("shop", "shop-1", 8, 224, 224, (0,) * 3, (1,) * 3, "", {"fold_predictions": "shop.folds.npz"})
    read = of_weights(weights)
    assert read.source == folds.source and (read.neighbours == folds.neighbours).all()
    np.testing.assert_allclose(read.similarities, folds.similarities, atol=1e-3)  # kept as float16
    assert of_weights(Weights("plain", "plain-1", 8, 224, 224, (0,) * 3, (1,) * 3, "")) is None
    with caplog.at_level(logging.WARNING):
        gone = Weights("shop", "shop-1", 8, 224, 224, (0,) * 3, (1,) * 3, "", {"fold_predictions": "gone.npz"})
        assert of_weights(gone) is None
    assert "gone.npz" in caplog.text and "did not train on alone" in caplog.text


def test_the_script_asks_each_photo_of_a_fold_model_that_did_not_train_on_it(small_catalogue, tmp_path):
    from vision.backbones import get_backbone

    reference_root, query_root = small_catalogue
    shutil.copytree(query_root, tmp_path / "val")  # Grocery val: grocery_lite0 never trained on it
    out = tmp_path / "folds.npz"
    script.main(script.get_args_parser().parse_args([
        "--fold", "grocery_lite0", "--catalogue", str(reference_root), "--catalogue", str(tmp_path / "val"),
        "--out", str(out), "--runtime", "torch", "--neighbours", "10"]))
    folds = FoldPredictions.load(out)
    photos = scan_catalogue(reference_root) + scan_catalogue(tmp_path / "val")
    trained_on = get_backbone("grocery_lite0").weights.trained_on
    unseen = {key_number(content_key(p.path)) for p in photos if content_key(p.path) not in trained_on}
    assert set(folds.queries.tolist()) == unseen and len(unseen) < len(photos)
    everything = {key_number(content_key(p.path)) for p in photos}
    for asked, found, similarities in zip(folds.queries.tolist(), folds.neighbours, folds.similarities):
        kept = [k for k in found.tolist() if k]
        assert kept and set(kept) <= everything - {asked}
        assert (np.diff(similarities[:len(kept)]) <= 1e-3).all()
    assert "grocery_lite0-" in folds.source and "photos it did not train on" in folds.source


def test_the_shipped_grocery_is_calibrated_on_what_its_fold_models_said_of_photos_it_trained_on():
    from vision.backbones import get_backbone

    shipped, folded = get_backbone("grocery").weights, get_backbone("grocery_folds").weights
    folds = of_weights(shipped)
    asked = {f"{key:016x}" for key in folds.queries.tolist()}
    assert asked <= shipped.trained_on and not asked & folded.trained_on
    assert len(asked) == 810  # Grocery train's held-out fifth (514) and val (296)
    assert folded.version in folds.source
