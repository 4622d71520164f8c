"""Audits: answers labelled by people from the live stream, and auto-accept thresholds refitted on them.

The index's calibration reads each level's auto-accept threshold off its predictions for its own
references (vision.calibration): photos of the catalogue's own shelves and days, which new photos,
shot on other days, are harder than. A promise of 98 % read off them does not hold on new photos
(bench/README.md). Audited answers are new photos, so refitting a level's threshold on them beside
the calibration's predictions is what can keep the promise on the live stream.

The refit chooses each threshold with its uncertainty, as the calibration chooses it
(vision.calibration.threshold_with_uncertainty), per top-level category and depth: from the
calibration's predictions (of every category: the prior) and the audited answers of that top-level
category, each of those counting AUDIT_WEIGHT times (they are of the stream the promise is about).
New photos of one subtree can be much harder than another's (on Grocery val, Fruit's answers were
right 82 % of the time, Vegetables' 92 %): one threshold a depth would have to be set for the
hardest, and would then refuse the others' answers too (bench/README.md, "Audits"). `simulate` is
the offline twin of the loop that `vision.evaluate --audit N` runs on its queries.
"""

import math
from dataclasses import dataclass, replace

import numpy as np

from . import outcomes
from .calibration import POSTERIOR_RISK, acceptance, right_to_depth, threshold_at, threshold_with_uncertainty
from .scoring import auto_accept_figures

# See bench/README.md ("Audits"): chosen on Grocery train's held-out fifth.
AUDIT_WEIGHT = 2.0


@dataclass(frozen=True)
class Labelled:
    """One level of an answer whose truth is known: the top-level category of the answer, the
    level's depth, its calibrated confidence, and whether the answer was right down to that depth."""

    top_level: str
    depth: int
    confidence: float
    right: bool


def labelled_levels(truth, decision):
    """[Labelled] of every level of a decision's predicted path, against the true path (the same
    rule as the calibration's fit: a level is right when the path down to it is the truth's)."""
    return [Labelled(decision.predicted[0], depth, float(confidence), right_to_depth(decision.predicted, truth, depth))
            for depth, confidence in enumerate(decision.predicted_confidences, start=1)]


def refit_thresholds(calibration, audited, target_precision, top_levels=None, audit_weight=AUDIT_WEIGHT,
                     risk=POSTERIOR_RISK):
    """{(top-level category, depth): threshold} of the calibration's depths under each of
    `top_levels` (default: those of the audits), from its predictions and the audited [Labelled]
    levels of that category (`audit_weight`, `risk`: see threshold_with_uncertainty)."""
    thresholds = {}
    for top_level in sorted(top_levels if top_levels is not None else {level.top_level for level in audited}):
        for depth in range(1, calibration.depths + 1):
            mine = calibration.fit_depth == depth
            theirs = [level for level in audited
                      if level.top_level == top_level and min(level.depth, calibration.depths) == depth]
            thresholds[top_level, depth] = threshold_with_uncertainty(
                np.concatenate([calibration.fit_confidence[mine], [level.confidence for level in theirs]]),
                np.concatenate([calibration.fit_correct[mine], [level.right for level in theirs]]).astype(bool),
                np.concatenate([np.ones(int(mine.sum())), np.full(len(theirs), audit_weight)]),
                target_precision, risk)
    return thresholds


def redecided(result, calibration, target_precision, thresholds):
    """The Result with its decision's outcome under refitted thresholds ({(top-level category,
    depth): threshold}; the calibration's where there is none); an answer of no category, or an
    uncalibrated one, stays as it was."""
    decision = result.decision
    if not decision.calibrated or decision.outcome == outcomes.NOT_IN_CATALOGUE:
        return result
    outcome, accepted = acceptance(decision.predicted_confidences, len(decision.path), len(decision.predicted),
                                   threshold_at(calibration, target_precision, thresholds, decision.predicted))
    return replace(result, decision=replace(decision, outcome=outcome, accepted_depth=accepted))


def simulate(by_calibration, count, seed, target_precision, **rule):
    """The audit loop, offline, over [(calibration, [Result])] (one index's, or each CV fold's): in
    a seeded random order the first `count` queries are labelled (as audits label accepted answers,
    and reviews the others, in the app), each calibration's thresholds are refitted on them with
    its own predictions, and automatic acceptance of the remaining queries is measured under the
    thresholds before and after (`rule`: refit_thresholds's audit_weight and risk)."""
    everything = [(group, result) for group, (_, results) in enumerate(by_calibration) for result in results]
    order = np.random.default_rng(seed).permutation(len(everything))
    audited = {int(i) for i in order[:count]}
    levels = [level for i in sorted(audited) for level in _labelled(everything[i][1])]
    refitted = [refit_thresholds(calibration, levels, target_precision, **rule) for calibration, _ in by_calibration]
    remaining = [everything[i] for i in order[count:]]
    return {
        "audited": count, "seed": seed,
        "before": auto_accept_figures([result for _, result in remaining]),
        "after": auto_accept_figures([redecided(result, by_calibration[group][0], target_precision, refitted[group])
                                      for group, result in remaining]),
        # Per index (one, or each CV fold's), by depth and then "TOP/depth"; None: no threshold
        # reaches the target there.
        "thresholds_before": [{str(d): _finite(calibration.threshold(d, target_precision))
                               for d in range(1, calibration.depths + 1)} for calibration, _ in by_calibration],
        "thresholds_after": [{f"{top}/{d}": _finite(t) for (top, d), t in thresholds.items()}
                             for thresholds in refitted],
    }


def _labelled(result):
    """The Labelled levels of a query's answer, when it has a calibrated category to audit."""
    decision = result.decision
    if not decision.calibrated or decision.outcome == outcomes.NOT_IN_CATALOGUE:
        return []
    return labelled_levels(result.truth, decision)


def _finite(threshold):
    return threshold if math.isfinite(threshold) else None
