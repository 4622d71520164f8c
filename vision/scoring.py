"""The figures of categorized queries: accuracy by depth, calibration error, coverage at a
precision (the risk-coverage curve), auto-accept, and how well "not in the catalogue" separates
photos outside it.

NumPy only (scikit-learn for the AUROC, SciPy for the exact precision interval): a Result carries
everything its figures need, so vision.evaluate prints them, vision.report plots them, and the
training script and the benches score with them without loading a model here.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from . import outcomes
from .calibration import DEFAULT_TARGET_PRECISION, decide
from .precision import precision_interval

WORST_CLASSES_SHOWN = 8
CALIBRATION_BINS = 10
COVERAGE_PRECISIONS = ("0.95", "0.98", "0.99")
# The levels figures are given at: (key, depth), a depth of None meaning the whole path.
LEVELS = (("1", 1), ("2", 2), ("leaf", None))


@dataclass
class Result:
    path: str  # the query's file
    truth: tuple
    assignment: object  # the raw vision.vote.Assignment
    decision: object  # the calibrated vision.calibration.Decision
    embedding: np.ndarray = None  # (D,) of the photo (its main item, with a segmenter)


def answer_right(result, depth=None):
    return paths_agree(result.truth, result.decision.predicted, depth)


def paths_agree(truth, predicted, depth=None):
    """Whether the `predicted` category names `truth` to `depth` levels (None: the leaf); a truth
    shallower than `depth` must be named whole."""
    if depth is None:
        return predicted == truth
    depth = min(depth, len(truth))
    return predicted[:depth] == truth[:depth]


def answer_confidence(result, depth=None):
    confidences = result.decision.predicted_confidences
    if not confidences:
        return 0.0
    return confidences[-1] if depth is None else confidences[min(depth, len(confidences)) - 1]


def score(results):
    """Accuracy figures of [Result] (or of [(true path, Assignment)], uncalibrated)."""
    results = [r if isinstance(r, Result) else _uncalibrated_result(*r) for r in results]
    n = len(results)

    def fraction(test):
        return sum(1 for r in results if test(r)) / n if n else 0.0

    return {
        "accuracy_by_depth": _accuracy_by_depth(results),
        # Per top-level category (Fruit, Packages, Vegetables): a change that helps one subtree
        # and costs another shows here, not in the overall figure.
        "accuracy_by_subtree": {top: _accuracy_by_depth([r for r in results if r.truth[:1] == (top,)])
                                for top in sorted({r.truth[0] for r in results if r.truth})},
        "abstain_rate": fraction(lambda r: len(r.decision.path) < len(r.decision.predicted)),
        "assigned_accuracy": fraction(lambda r: bool(r.decision.path)
                                      and r.truth[:len(r.decision.path)] == r.decision.path),
        "n_queries": n,
    }


def _accuracy_by_depth(results):
    """{"1", "2", "leaf"}: the share of results whose predicted path is right to that depth."""
    n = len(results)
    return {key: sum(1 for r in results if answer_right(r, depth)) / n if n else 0.0
            for key, depth in LEVELS}


def _uncalibrated_result(truth, assignment):
    return Result("", truth, assignment, decide([assignment], None, DEFAULT_TARGET_PRECISION))


def expected_calibration_error(confidences, correct, bins=CALIBRATION_BINS):
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    if not len(confidences):
        return 0.0
    which = np.minimum((confidences * bins).astype(int), bins - 1)
    return float(sum(abs(confidences[which == b].mean() - correct[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(confidences))


def answers_taken(confidences, correct):
    """(share of the answers taken, share of those right), as answers are taken most confident
    first: the precision-coverage (and risk-coverage) curve."""
    order = np.argsort(-np.asarray(confidences, float), kind="stable")
    taken = np.arange(1, len(order) + 1)
    return taken / max(len(order), 1), np.cumsum(np.asarray(correct, float)[order]) / taken


def coverage_at(confidences, correct, precision):
    """The largest share of answers that, taken most confident first, are right at `precision`."""
    coverage, right = answers_taken(confidences, correct)
    reaching = np.flatnonzero(right >= precision - 1e-12)
    return float(coverage[reaching[-1]]) if len(reaching) else 0.0


def calibration_figures(results, target_precision):
    calibrated = [r for r in results if r.decision.calibrated]
    leaf_confidence = [answer_confidence(r) for r in calibrated]
    leaf_correct = [answer_right(r) for r in calibrated]
    # None, not 0.000, where no answer was calibrated: an error of 0 would read as a perfect calibration.
    by_depth = {key: expected_calibration_error([answer_confidence(r, depth) for r in calibrated],
                                                [answer_right(r, depth) for r in calibrated]) if calibrated else None
                for key, depth in LEVELS}
    n = len(results) or 1
    return {
        "calibrated_share": len(calibrated) / n,
        "calibration_error": expected_calibration_error(leaf_confidence, leaf_correct) if calibrated else None,
        "calibration_error_by_depth": by_depth,
        "coverage_at_precision": {p: coverage_at(leaf_confidence, leaf_correct, float(p))
                                  for p in COVERAGE_PRECISIONS},
        "auto_accept": {"target_precision": target_precision, **auto_accept_figures(results)},
        "outcomes": dict(Counter(r.decision.outcome for r in results)),
        "mean_leaf_confidence": float(np.mean(leaf_confidence)) if leaf_confidence else None,
        # The largest share of the queries with one leaf confidence, to the 4 decimals pages show: a
        # confidence that piles photos on one value cannot rank them (under 10 % is the aim).
        "largest_confidence_tie": _largest_tie(leaf_confidence),
    }


def _largest_tie(confidences):
    if not confidences:
        return None
    _, counts = np.unique(np.round(confidences, 4), return_counts=True)
    return float(counts.max() / len(confidences))


def auto_accept_figures(results):
    """Automatic acceptance among `results`: the share accepted whole and its precision (with the
    exact one-sided 95 % lower bound of it), and the share accepted at a parent and how often that
    was right at the accepted level."""
    accepted = [r for r in results if r.decision.outcome == outcomes.ACCEPTED]
    at_parent = [r for r in results if r.decision.outcome == outcomes.ACCEPTED_AT_PARENT]
    right = sum(answer_right(r) for r in accepted)
    right_at_parent = sum(r.truth[:r.decision.accepted_depth] == r.decision.predicted[:r.decision.accepted_depth]
                          for r in at_parent)
    n = len(results) or 1
    return {
        "coverage": len(accepted) / n,
        "precision": right / len(accepted) if accepted else None,
        "precision_lower_95": precision_interval(right, len(accepted))[0] if accepted else None,
        "at_parent_coverage": len(at_parent) / n,
        "at_parent_precision": right_at_parent / len(at_parent) if at_parent else None,
    }


def outside_figures(inside, outside):
    """How "not in the catalogue" separates photos outside it from the queries (which are inside)."""
    from sklearn.metrics import roc_auc_score

    flagged = [r.decision.outcome == outcomes.NOT_IN_CATALOGUE for r in outside]
    inside_flagged = [r.decision.outcome == outcomes.NOT_IN_CATALOGUE for r in inside]
    # A photo is the more novel the less similar its nearest reference is.
    novelty = [-r.decision.top_similarity for r in inside + outside]
    labels = [0] * len(inside) + [1] * len(outside)
    return {
        "n_outside": len(outside),
        "flagged_rate": float(np.mean(flagged)) if flagged else 0.0,
        "inside_flagged_rate": float(np.mean(inside_flagged)) if inside_flagged else 0.0,
        "auroc": float(roc_auc_score(labels, novelty)) if inside and outside else None,
    }


def worst_classes(results, count=WORST_CLASSES_SHOWN):
    by_class = defaultdict(list)
    for result in results:
        by_class[result.truth].append(result.decision.predicted)
    rows = []
    for truth, predicted in by_class.items():
        wrong = Counter(p for p in predicted if p != truth)
        confused_with = wrong.most_common(1)[0][0] if wrong else None
        rows.append((sum(p == truth for p in predicted) / len(predicted), len(predicted), truth, confused_with))
    return sorted(rows, key=lambda row: (row[0], -row[1]))[:count]


def confidence_pairs(results):
    """[(leaf confidence, right)] of the calibrated answers: what a reliability diagram shows."""
    return [(answer_confidence(r), answer_right(r)) for r in results if r.decision.calibrated]
