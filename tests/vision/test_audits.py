"""Auto-accept thresholds refitted on audited answers (vision.audits), and the offline twin of the loop."""

import math

import numpy as np
import pytest

from vision import outcomes
from vision.audits import Labelled, labelled_levels, redecided, refit_thresholds, simulate
from vision.calibration import Calibration, Decision, threshold_with_uncertainty
from vision.precision import precision_interval
from vision.scoring import Result

TARGET = 0.98


def calibration(confidence, correct, depth):
    return Calibration(np.zeros((2, 2, 4)), np.zeros((2, 2)), 0.3, np.asarray(confidence, float),
                       np.asarray(correct, bool), np.asarray(depth, np.int8), 100, 4, len(confidence))


def train_like(count=4000, seed=0):
    """A calibration whose predictions at depth 1 and 2 are right 99.5 % of the time above 0.9."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.5, 1.0, count)
    correct = np.where(confidence > 0.9, rng.random(count) < 0.995, rng.random(count) < 0.7)
    return calibration(np.tile(confidence, 2), np.tile(correct, 2), np.repeat([1, 2], count))


def test_the_exact_interval_is_clopper_pearsons():
    low, high = precision_interval(150, 150)
    assert low == pytest.approx(0.05 ** (1 / 150)) and high == 1.0  # the one-sided 95 % bound of 150 out of 150
    assert precision_interval(0, 10)[0] == 0.0


def test_a_threshold_needs_evidence_not_a_lucky_streak():
    few = threshold_with_uncertainty([0.99] * 20, [True] * 20, np.ones(20), TARGET)
    many = threshold_with_uncertainty([0.99] * 400, [True] * 400, np.ones(400), TARGET)
    assert math.isinf(few) and many == 0.99  # 20 right of 20 does not make 98 % likely; 400 of 400 does


def test_audits_that_find_errors_above_the_threshold_raise_it_for_their_own_top_level():
    calibrated = train_like()
    before = refit_thresholds(calibrated, [], TARGET, {"Fruit", "Vegetables"})
    rng = np.random.default_rng(1)
    # New photos of Fruit: right only 90 % of the time at 0.9 to 0.97, 99.5 % above; Vegetables'
    # right as often as the calibration's.
    audited = [Labelled("Fruit", depth, c, bool(rng.random() < (0.995 if c > 0.97 else 0.9)))
               for c in rng.uniform(0.9, 1.0, 300) for depth in (1, 2)]
    audited += [Labelled("Vegetables", 2, c, True) for c in rng.uniform(0.9, 1.0, 100)]
    after = refit_thresholds(calibrated, audited, TARGET)
    assert set(after) == {("Fruit", 1), ("Fruit", 2), ("Vegetables", 1), ("Vegetables", 2)}
    assert before["Fruit", 2] == before["Vegetables", 2] < 0.95 and after["Fruit", 2] > before["Fruit", 2]
    assert after["Vegetables", 2] <= before["Vegetables", 2]


def test_audits_that_agree_leave_the_threshold_where_it_was_or_lower():
    calibrated = train_like()
    audited = [Labelled("Fruit", 2, c, True) for c in np.linspace(0.9, 1.0, 200)]
    assert refit_thresholds(calibrated, audited, TARGET)["Fruit", 2] <= \
        refit_thresholds(calibrated, [], TARGET, {"Fruit"})["Fruit", 2]


def answer(truth, predicted, confidences, outcome=outcomes.NEEDS_REVIEW):
    decision = Decision(predicted, confidences, outcome, 0, predicted, confidences, 0.9, True)
    return Result("photo.jpg", truth, None, decision)


def test_an_answer_is_decided_again_under_its_top_levels_thresholds():
    calibrated = train_like()
    fruit = answer(("Fruit", "Apple"), ("Fruit", "Apple"), (0.99, 0.95))
    assert redecided(fruit, calibrated, TARGET, {("Fruit", 1): 0.9, ("Fruit", 2): 0.9}).decision.outcome == \
        outcomes.ACCEPTED
    at_parent = redecided(fruit, calibrated, TARGET, {("Fruit", 1): 0.9, ("Fruit", 2): 0.97}).decision
    assert (at_parent.outcome, at_parent.accepted_depth) == (outcomes.ACCEPTED_AT_PARENT, 1)
    # Another top level's refit does not touch it: the calibration's thresholds stand (0.95 is above them).
    assert redecided(fruit, calibrated, TARGET, {("Vegetables", 2): 0.999}).decision.outcome == outcomes.ACCEPTED
    outside = answer(("Fruit", "Apple"), ("Fruit", "Apple"), (0.99, 0.95), outcomes.NOT_IN_CATALOGUE)
    assert redecided(outside, calibrated, TARGET, {("Fruit", 2): 0.5}).decision.outcome == outcomes.NOT_IN_CATALOGUE


def test_a_level_is_right_when_the_path_down_to_it_is():
    levels = labelled_levels(("Fruit", "Apple", "Granny"), answer((), ("Fruit", "Pear", "Conference"),
                                                                 (0.99, 0.8, 0.7)).decision)
    assert [(level.top_level, level.depth, level.right) for level in levels] == [
        ("Fruit", 1, True), ("Fruit", 2, False), ("Fruit", 3, False)]


def test_the_offline_twin_measures_the_remaining_queries_before_and_after():
    calibrated = train_like()
    rng = np.random.default_rng(2)
    results = []
    for _ in range(300):
        confidence = float(rng.uniform(0.9, 1.0))
        right = rng.random() < (0.995 if confidence > 0.97 else 0.9)
        outcome = outcomes.ACCEPTED if confidence >= calibrated.threshold(2, TARGET) else outcomes.NEEDS_REVIEW
        results.append(answer(("Fruit", "Apple"), ("Fruit", "Apple" if right else "Pear"), (0.999, confidence),
                              outcome))
    figures = simulate([(calibrated, results)], 150, 0, TARGET)
    assert figures["audited"] == 150
    assert set(figures["before"]) == {"coverage", "precision", "precision_lower_95", "at_parent_coverage",
                                      "at_parent_precision"}
    assert figures["after"]["coverage"] < figures["before"]["coverage"]
    assert figures["after"]["precision"] > figures["before"]["precision"]
    assert figures["thresholds_after"][0]["Fruit/2"] > figures["thresholds_before"][0]["2"]
