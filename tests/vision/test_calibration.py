import numpy as np
import pytest

from vision import outcomes
from vision.calibration import (
    FEATURES,
    MIN_CALIBRATION_QUERIES,
    POSTERIOR_RISK,
    calibration_is_stale,
    decide,
    decide_listing,
    fit_calibration,
    left_out_predictions,
    refresh_calibration,
    threshold_with_uncertainty,
)
from vision.index import ReferenceIndex
from vision.vote import Neighbour, VoteConfig, vote

DIMENSION = 64
LEAVES = [("Fruit", "Apple", "Gala"), ("Fruit", "Apple", "Fuji"), ("Fruit", "Banana"), ("Vegetables", "Leek")]


def unit(vectors):
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture
def space():
    """Leaf centres in 64 dimensions: the two apples close together, the rest apart."""
    rng = np.random.default_rng(0)
    centres = unit(rng.standard_normal((4, DIMENSION)))
    centres[1] = unit(centres[0] + 0.3 * unit(rng.standard_normal(DIMENSION)))
    return rng, centres


def references(space, per_leaf=30, spread=0.08):
    rng, centres = space
    labels = np.repeat(np.arange(len(LEAVES)), per_leaf)
    return unit(centres[labels] + spread * rng.standard_normal((len(labels), centres.shape[1]))), labels


def make_index(vectors, labels, trained=None):
    index = ReferenceIndex(vectors.shape[1], "test", "test-1")
    index.add(vectors, [LEAVES[i] for i in labels], list(range(len(labels))), trained)
    return index


def calibrated_index(space, **options):
    index = make_index(*references(space, **options))
    refresh_calibration(index)
    return index


def assignment(index, vector):
    return vote(index.search(vector[None], VoteConfig().searched)[0])


def test_it_is_fitted_kept_in_the_index_file_and_loaded_back(space, tmp_path):
    index = calibrated_index(space)
    assert index.calibration is not None and index.calibration.queries == 120
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    query = assignment(loaded, space[1][2])
    assert decide([query], loaded.calibration, 0.98).predicted_confidences == \
        decide([query], index.calibration, 0.98).predicted_confidences
    assert loaded.manifest()["calibration"]["queries"] == 120


def test_it_is_refitted_when_the_references_grow_or_gain_a_category(space):
    index = calibrated_index(space)
    assert not calibration_is_stale(index) and not refresh_calibration(index)
    vectors, labels = references(space, per_leaf=2)
    index.add(vectors, [LEAVES[i] for i in labels], list(range(1000, 1000 + len(labels))))
    assert not calibration_is_stale(index)  # under 10 % more
    index.add(vectors[:1], [("Vegetables", "Kale")], [2000])
    assert calibration_is_stale(index) and refresh_calibration(index)
    assert index.calibration.categories == len(index.categories)


def test_photos_the_embedder_trained_on_are_never_calibration_queries(space):
    vectors, labels = references(space)
    trained = np.ones(len(labels), bool)
    trained[:MIN_CALIBRATION_QUERIES - 1] = False
    index = make_index(vectors, labels, trained)
    assert fit_calibration(index) is None and not calibration_is_stale(index)
    trained[:MIN_CALIBRATION_QUERIES + 5] = False
    index = make_index(vectors, labels, trained)
    assert fit_calibration(index).queries == MIN_CALIBRATION_QUERIES + 5


def test_a_left_out_reference_is_voted_on_without_its_occasion(space):
    vectors, labels = references(space, per_leaf=10)
    twins = np.concatenate([vectors, vectors])  # every photo twice, the twin in its own occasion
    index = ReferenceIndex(DIMENSION, "test", "test-1")
    ids = list(range(len(twins)))
    index.add(twins, [LEAVES[i] for i in np.concatenate([labels, labels])], ids, groups=ids[:len(vectors)] * 2)
    _, assignments, _ = left_out_predictions(index)
    assert all(a.neighbours[0].similarity < 0.999 for a in assignments)


def test_a_near_duplicate_is_accepted_and_an_unrelated_photo_is_not_in_the_catalogue(space):
    index = calibrated_index(space, per_leaf=60)
    rng, centres = space
    vectors, _ = index.labelled_vectors()
    twin = unit(vectors[130] + 0.01 * rng.standard_normal(DIMENSION))  # a Banana reference, re-photographed
    accepted = decide([assignment(index, twin)], index.calibration, 0.98)
    assert accepted.outcome == outcomes.ACCEPTED and accepted.path == ("Fruit", "Banana")
    assert accepted.confidences[-1] > 0.9
    unrelated = decide([assignment(index, unit(rng.standard_normal(DIMENSION)))], index.calibration, 0.98)
    assert unrelated.outcome == outcomes.NOT_IN_CATALOGUE and unrelated.path == ()


def test_confidence_is_lower_between_look_alikes_and_never_above_the_parent(space):
    index = calibrated_index(space)
    rng, centres = space
    between = decide([assignment(index, unit(centres[0] + centres[1]))], index.calibration, 0.98)
    clear = decide([assignment(index, centres[3])], index.calibration, 0.98)
    assert between.predicted_confidences[-1] < clear.predicted_confidences[-1]
    assert list(between.predicted_confidences) == sorted(between.predicted_confidences, reverse=True)
    assert between.outcome in (outcomes.ACCEPTED_AT_PARENT, outcomes.NEEDS_REVIEW)


def test_several_agreeing_photos_raise_a_listings_confidence_and_a_stray_one_does_not_outvote_them(space):
    index = calibrated_index(space)
    rng, centres = space
    photos = unsure_gala_photos(index, centres, rng)
    together = decide_listing(photos, index.calibration, 0.98)
    assert together.predicted == ("Fruit", "Apple", "Gala")
    alone = [decide_listing([photo], index.calibration, 0.98).predicted_confidences[-1] for photo in photos]
    assert together.predicted_confidences[-1] > max(alone)
    stray = assignment(index, centres[3])  # a leek in one of the photos
    assert decide_listing(photos + [stray], index.calibration, 0.98).predicted == ("Fruit", "Apple", "Gala")


def unsure_gala_photos(index, centres, rng, count=3):
    """Photos of Gala that lean towards Fuji, each taken for Gala but with under 95 % confidence."""
    photos = []
    for _ in range(1000):
        if len(photos) == count:
            return photos
        photo = assignment(index, unit(0.6 * centres[0] + 0.4 * centres[1] + 0.08 * rng.standard_normal(DIMENSION)))
        decision = decide([photo], index.calibration, 0.98)
        if decision.predicted == ("Fruit", "Apple", "Gala") and decision.predicted_confidences[-1] < 0.95:
            photos.append(photo)
    raise AssertionError("no unsure Gala photos: the two apples are too far apart")


def test_a_listings_photo_unlike_the_catalogue_is_left_out_of_its_decision(space):
    index = calibrated_index(space)
    rng, centres = space
    banana = assignment(index, centres[2])
    unrelated = assignment(index, unit(rng.standard_normal(DIMENSION)))
    assert decide_listing([banana, unrelated], index.calibration, 0.98).path == ("Fruit", "Banana")
    assert decide_listing([unrelated], index.calibration, 0.98).outcome == outcomes.NOT_IN_CATALOGUE


def test_without_a_calibration_everything_needs_review(space):
    index = make_index(*references(space))
    decision = decide([assignment(index, space[1][2])], None, 0.98)
    assert decision.outcome == outcomes.NEEDS_REVIEW and not decision.calibrated
    assert decision.path == ("Fruit", "Banana")


def test_evidence_beyond_the_voters_tells_apart_answers_whose_voters_all_agree(space):
    index = calibrated_index(space)
    voters = [Neighbour(i, LEAVES[0], 0.9 - 0.001 * i) for i in range(VoteConfig.k)]
    beyond = range(VoteConfig.k, VoteConfig().searched)
    alone = vote(voters + [Neighbour(i, LEAVES[0], 0.85 - 0.001 * i) for i in beyond])
    among_look_alikes = vote(voters + [Neighbour(i, LEAVES[1], 0.885 - 0.001 * i) for i in beyond])
    assert alone.path == among_look_alikes.path == LEAVES[0]
    sure, unsure = (decide([a], index.calibration, 0.98).predicted_confidences[-1] for a in (alone, among_look_alikes))
    assert unsure < sure


def test_a_sure_parent_does_not_flatten_its_childrens_confidence(space):
    """Every top level is right in the fit, so its model is a constant: the leaf confidences are
    its product with their own, and still rank the photos."""
    index = calibrated_index(space)
    rng, centres = space
    photos = [unit(centres[0] + share * (centres[1] - centres[0]) + 0.02 * rng.standard_normal(DIMENSION))
              for share in np.linspace(0, 0.45, 10)]
    decisions = [decide([assignment(index, photo)], index.calibration, 0.98) for photo in photos]
    assert all(d.predicted == LEAVES[0] for d in decisions)
    leaf = [round(d.predicted_confidences[-1], 4) for d in decisions]
    assert len(set(leaf)) == len(leaf)
    assert all(list(d.predicted_confidences) == sorted(d.predicted_confidences, reverse=True) for d in decisions)


def test_a_calibration_fitted_on_other_features_is_refitted(space, tmp_path):
    index = calibrated_index(space)
    index.calibration.features = FEATURES[:4]
    assert calibration_is_stale(index) and refresh_calibration(index)
    assert index.calibration.features == FEATURES
    index.save(tmp_path / "index.npz")
    assert not calibration_is_stale(ReferenceIndex.load(tmp_path / "index.npz"))


def test_a_threshold_rests_on_enough_answers_not_on_a_lucky_few():
    assert threshold_with_uncertainty([0.99] * 100, [True] * 100, np.ones(100), 0.98) == np.inf
    assert threshold_with_uncertainty([0.99] * 200, [True] * 200, np.ones(200), 0.98) == 0.99
    confidence = np.linspace(1, 0.5, 400)
    right = np.arange(400) < 300  # the least confident quarter wrong
    threshold = threshold_with_uncertainty(confidence, right, np.ones(400), 0.98, POSTERIOR_RISK)
    assert confidence[310] < threshold <= confidence[299]
