"""Confidence that means what it says: calibrated per index, with auto-accept and "not in the catalogue".

The vote's shares say how the neighbours split, not how often the answer is right: a share of
0.9 was right far less than 90 % of the time. Here a small logistic model per depth of the tree
turns the evidence for one level of a prediction (its share, its lead over the runner-up in
share and in similarity, how far the agreement reaches among the nearest evidence_k references,
and for a listing how many photos disagree) into the probability that the level is right given
that the level above it is; a level's confidence is the product down the path (a level cannot be
right when the one above it is wrong, and a confident parent no longer caps, and so flattens, the
confidence of its children). It is fitted per index on predictions the index makes for its own
references, each left out of the index together with the other photos of its occasion
(vision.splits: a seller's photo is of a new occasion, and a left-out photo whose twin stays in
looks far easier), and only for references the embedder did not train on: an adapted embedder
has pulled its training photos together, so on them it looks surer than it is on a new photo.
An embedder trained on every reference leaves none: what its fold models (the same recipe without
a part of the photos) found for the photos they did not train on stands in (vision.fold_predictions).
Listings have a model of their own, fitted on groups of such references of one category, some
with a photo of another category among them.

The same predictions give each depth the lowest confidence above which answers reach a target
precision with their uncertainty (auto-accept, threshold_with_uncertainty; vision.audits adds
audited answers to them). Whether a photo is like the catalogue at all is judged apart, on its
similarity to the nearest reference in frozen generic features (the index's novelty space).
Everything is kept in the index file and refitted when the references change enough.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import beta

from . import outcomes
from .vote import Neighbour, VoteConfig, children, predicted_path, vote

# A level's features, in this order (see level_features). All are relative: how similar new
# photos are to the references shifts between catalogues and occasions (Grocery val photos' nearest
# reference is 0.07 less similar than a left-out reference's), and with an absolute similarity
# the fit learnt to trust an exact twin of a reference less. Several photos' log-odds add up, as
# independent evidence would; the listing model, shown groups of photos, learns how far to trust it.
FEATURES = ("share log-odds, summed over the photos", "lead over the runner-up", "similarity lead over other nodes",
            "share of the evidence in the node", "agreeing run (log, of the evidence)",
            "similarity lead over other nodes in the evidence", "share of the photos disagreeing")
# The similarity lead of a node that the whole evidence agrees on: as if the next reference
# beyond it were this much less similar than the last one searched.
BEYOND_EVIDENCE = 0.05
# Below this many references the embedder did not train on (or its fold predictions cover), the
# index is not calibrated: every answer then needs review, and nothing is flagged as outside the
# catalogue.
MIN_CALIBRATION_QUERIES = 30
MAX_CALIBRATION_QUERIES = 5000
# Refitted once the index has grown by this share since the fit (or gained a category).
REFIT_GROWTH = 0.1
# A photo is outside the catalogue when its nearest reference, in the novelty space (the frozen
# features of vision.splits.GROUPING_BACKBONE, the same space for every catalogue), is less similar
# than NOVELTY_CEILING, or than left-out references usually are, whichever is lower: their median
# similarity less NOVELTY_SPREADS times the spread of their lower tail (median minus 5th
# percentile), for a catalogue whose photos are unlike one another. A percentile of left-out
# references alone flags too many new photos, which are less alike than left-out references are,
# occasions kept apart though they are: on half of Grocery val their 3rd percentile flagged 19 %.
# The ceiling was chosen on that half and on half of ECSSD (0.55: none of the Grocery photos and
# 99.4 % of ECSSD's flagged; 0.60: 3.0 % and 100 %); on Freiburg groceries, tuned on by no one, it
# flags 0.4 % of left-out photos and 97.4 % of the other half of ECSSD.
NOVELTY_CEILING = 0.55
NOVELTY_SPREADS = 1.5
# Listings the fit is shown: groups of 2..MAX_GROUP photos of one category, this share of them
# with one photo of another category.
MAX_GROUP = 4
DISTRACTOR_SHARE = 0.3
SHARE_EPSILON = 1e-4
REGULARISATION = 1.0  # inverse L2 strength of the logistic models, on standardised features
# The precision auto-accept aims at, unless told another (Calibration.threshold).
DEFAULT_TARGET_PRECISION = 0.98
# A threshold leaves at most this posterior probability to a precision below the target
# (threshold_with_uncertainty; bench/README.md, "Audits": chosen on Grocery train's held-out fifth).
POSTERIOR_RISK = 0.05


@dataclass
class Calibration:
    # (2, depths, len(FEATURES)): [0] for one photo, [1] for several pooled; row d-1 scores depth d.
    # Two models, because a fit shared with listings calibrated single photos worse (held-out
    # Grocery: 0.040 against 0.025 expected calibration error).
    coefficients: np.ndarray
    intercepts: np.ndarray  # (2, depths)
    novelty_threshold: float  # top similarity below which a photo is outside the catalogue
    # The fit's own single-photo predictions, per depth: calibrated confidence and whether it was
    # right; the auto-accept threshold for any target precision is read off them.
    fit_confidence: np.ndarray
    fit_correct: np.ndarray
    fit_depth: np.ndarray
    fitted_on: int  # references in the index when it was fitted
    categories: int  # categories in the index when it was fitted
    queries: int  # left-out references it was fitted on
    source: str = ""
    features: tuple = FEATURES  # what it was fitted on: one fitted on others is refitted
    folds: str = ""  # the digest of the fold predictions it was fitted with: others make it stale
    _thresholds: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def depths(self):
        return self.intercepts.shape[1]

    def probability(self, depth, features, pooled=False):
        """The probability that a level at `depth` with these features is right, given that the
        level above it is (`pooled`: the features are of several photos)."""
        model, row = int(pooled), min(depth, self.depths) - 1
        return _sigmoid(float(self.coefficients[model, row] @ features + self.intercepts[model, row]))

    def threshold(self, depth, target_precision):
        """The lowest confidence at `depth` above which the fit's answers leave at most
        POSTERIOR_RISK of a precision below `target_precision` (inf when none does)."""
        key = (min(depth, self.depths), target_precision)
        if key not in self._thresholds:
            chosen = self.fit_depth == key[0]
            self._thresholds[key] = threshold_with_uncertainty(
                self.fit_confidence[chosen], self.fit_correct[chosen], np.ones(int(chosen.sum())), target_precision)
        return self._thresholds[key]

    def is_stale(self, index):
        return (len(index) >= self.fitted_on * (1 + REFIT_GROWTH) or len(index.categories) > self.categories
                or tuple(self.features) != FEATURES)

    def manifest(self):
        return {"novelty_threshold": self.novelty_threshold, "fitted_on": self.fitted_on,
                "categories": self.categories, "queries": self.queries, "source": self.source,
                "features": list(self.features), "folds": self.folds}

    def arrays(self):
        return {"calibration_coefficients": self.coefficients, "calibration_intercepts": self.intercepts,
                "calibration_fit_confidence": self.fit_confidence, "calibration_fit_correct": self.fit_correct,
                "calibration_fit_depth": self.fit_depth}

    @classmethod
    def from_stored(cls, manifest, stored):
        """The Calibration kept in an index file; None when it was fitted on other features (an
        older file): it cannot score these, so the index is uncalibrated until it is refitted."""
        if not fitted_on_these_features(manifest):
            return None
        return cls(stored["calibration_coefficients"], stored["calibration_intercepts"],
                   manifest["novelty_threshold"], stored["calibration_fit_confidence"],
                   stored["calibration_fit_correct"], stored["calibration_fit_depth"], manifest["fitted_on"],
                   manifest["categories"], manifest["queries"], manifest["source"], FEATURES,
                   manifest.get("folds", ""))


def fitted_on_these_features(manifest):
    """Whether a stored calibration (its manifest) was fitted on today's FEATURES."""
    return tuple(manifest.get("features", ())) == FEATURES


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x > -700 else 0.0


def threshold_with_uncertainty(confidence, right, weight, target_precision, risk=POSTERIOR_RISK):
    """The lowest confidence above which the `weight`ed answers leave at most `risk` of a
    precision below `target_precision` (inf when no threshold does): the precision above a
    candidate has a beta posterior, a uniform prior updated by the weights of the right and the
    wrong answers above it. A point estimate over a few hundred answers would promise more than
    they show; a bound on them alone (about 150 right answers without an error for 98 %) would
    accept almost nothing."""
    order = np.argsort(-np.asarray(confidence, float), kind="stable")
    weight = np.asarray(weight, float)[order]
    right_weight = np.cumsum(weight * np.asarray(right, bool)[order])
    wrong_weight = np.cumsum(weight) - right_weight
    reaching = np.flatnonzero(beta.ppf(risk, 1 + right_weight, 1 + wrong_weight) >= target_precision)
    return float(np.asarray(confidence, float)[order][reaching[-1]]) if len(reaching) else math.inf


# --- evidence ---------------------------------------------------------------------------------

@dataclass
class Evidence:
    """What one or several photos' votes say, pooled: each photo's shares count equally."""

    node_share: dict  # node → mean share over the photos
    predicted: tuple  # the full predicted path on the pooled shares
    levels: list  # feature vector of each level of `predicted`
    top_similarity: float  # mean over the photos of the nearest reference's similarity (novelty space)
    photos: int


def pool(assignments, novelty=None):
    """The Evidence of the Assignments of one item, or of the items of one listing; `novelty`: each
    one's similarity to its nearest reference in the index's novelty space (default: the vote's)."""
    kept = [(a, n) for a, n in zip(assignments, _nearest(assignments, novelty)) if a.neighbours]
    if not kept:
        return Evidence({}, (), [], -1.0, 0)
    assignments = [a for a, _ in kept]
    share = {}
    for assignment in assignments:
        for node, value in assignment.node_confidence.items():
            share[node] = share.get(node, 0.0) + value / len(assignments)
    predicted = predicted_path(share)
    own_predictions = [a.predicted for a in assignments]
    levels = [level_features(share, predicted[:depth], assignments, own_predictions)
              for depth in range(1, len(predicted) + 1)]
    return Evidence(share, predicted, levels, float(np.mean([n for _, n in kept])), len(assignments))


def _nearest(assignments, novelty):
    """`novelty` as given, or each Assignment's nearest neighbour's similarity (-1 with none)."""
    if novelty is not None:
        return list(novelty)
    return [a.neighbours[0].similarity if a.neighbours else -1.0 for a in assignments]


def level_features(share, node, assignments, own_predictions):
    siblings = [s for s in children(share, node[:-1]) if s != node]
    runner_up = max((share[s] for s in siblings), default=0.0)
    log_odds, lead, evidence = 0.0, [], []
    for assignment in assignments:
        p = min(max(assignment.node_confidence.get(node, 0.0), SHARE_EPSILON), 1 - SHARE_EPSILON)
        log_odds += math.log(p / (1 - p))
        lead.append(_similarity_lead(assignment.neighbours, node, assignment.neighbours[-1].similarity))
        evidence.append(_evidence_features(assignment.context or assignment.neighbours, node))
    disagreeing = sum(own[:len(node)] != node for own in own_predictions) / len(own_predictions)
    return np.array([log_odds, share[node] - runner_up, np.mean(lead), *np.mean(evidence, axis=0), disagreeing],
                    np.float64)


def _similarity_lead(neighbours, node, floor):
    """How much more similar the nearest of `neighbours` in `node` is than the nearest outside it
    (`floor` stands in for one that is missing)."""
    within = max((n.similarity for n in neighbours if n.category[:len(node)] == node), default=floor)
    outside = max((n.similarity for n in neighbours if n.category[:len(node)] != node), default=floor)
    return within - outside


def _evidence_features(context, node):
    """(share of the context in `node`, its agreeing run from the nearest on a log scale, its
    similarity lead): the context's references weigh alike, so none of these saturates as soon as
    the voters agree."""
    inside = [n.category[:len(node)] == node for n in context]
    run = inside.index(False) if False in inside else len(inside)
    lead = _similarity_lead(context, node, context[-1].similarity - BEYOND_EVIDENCE)
    return sum(inside) / len(inside), math.log1p(run) / math.log1p(len(context)), lead


# --- decisions --------------------------------------------------------------------------------

@dataclass
class Decision:
    path: tuple  # the path shown: levels whose confidence is at least the vote threshold
    confidences: tuple  # probability that each level of `path` is right (the vote's share when not `calibrated`)
    outcome: str  # one of vision.outcomes.OUTCOMES
    accepted_depth: int  # how many levels were accepted automatically
    predicted: tuple  # the full predicted path
    predicted_confidences: tuple  # the same, for each of its levels
    top_similarity: float
    calibrated: bool

    @property
    def risk(self):
        """How likely the full prediction is wrong: the review order."""
        return 1 - self.predicted_confidences[-1] if self.predicted_confidences else 1.0


def decide(assignments, calibration, target_precision, config=VoteConfig(), novelty=None, thresholds=None):
    """The Decision for one item's Assignment, or for a listing's items' Assignments pooled
    (`novelty`: see pool; `thresholds`: see threshold_at)."""
    evidence = pool(assignments, novelty)
    if calibration is None:
        return _uncalibrated(evidence, config)
    confidences = level_confidences(evidence, calibration)
    if evidence.photos == 0 or evidence.top_similarity < calibration.novelty_threshold:
        return Decision((), (), outcomes.NOT_IN_CATALOGUE, 0, evidence.predicted, confidences,
                        evidence.top_similarity, True)
    shown = sum(1 for c in confidences if c >= config.threshold)
    outcome, accepted = acceptance(confidences, shown, len(evidence.predicted),
                                   threshold_at(calibration, target_precision, thresholds, evidence.predicted))
    return Decision(evidence.predicted[:shown], confidences[:shown], outcome, accepted, evidence.predicted,
                    confidences, evidence.top_similarity, True)


def threshold_at(calibration, target_precision, refitted, predicted):
    """threshold_at(depth) for the answer `predicted`: the threshold audits refitted for its
    top-level category and that depth (`refitted`: {(top-level category, depth): threshold},
    vision.audits) where there is one, else the calibration's."""
    refitted = refitted or {}
    top_level = predicted[0] if predicted else None

    def at(depth):
        key = (top_level, min(depth, calibration.depths))
        return refitted[key] if key in refitted else calibration.threshold(depth, target_precision)
    return at


def acceptance(confidences, shown, predicted_depth, threshold_of_depth):
    """(outcome, levels accepted) of a prediction `predicted_depth` levels deep whose levels have
    these `confidences`, the first `shown` of them shown, under the auto-accept thresholds
    `threshold_of_depth(depth)` (threshold_at): the deepest shown level whose confidence reaches
    its depth's threshold is accepted, with the levels above it."""
    accepted = min(shown, max((d for d in range(1, len(confidences) + 1)
                               if confidences[d - 1] >= threshold_of_depth(d)), default=0))
    if accepted and accepted == predicted_depth:
        return outcomes.ACCEPTED, accepted
    if accepted:
        return outcomes.ACCEPTED_AT_PARENT, accepted
    return outcomes.NEEDS_REVIEW, accepted


def decide_listing(assignments, calibration, target_precision, config=VoteConfig(), novelty=None, thresholds=None):
    """The Decision for the main items of a listing's photos: those unlike the catalogue are left
    out (they are not the listed product, or it is not in the catalogue when all of them are)."""
    novelty = _nearest(assignments, novelty)
    if calibration is not None:
        inside = [(a, n) for a, n in zip(assignments, novelty) if n >= calibration.novelty_threshold]
        if inside:
            assignments, novelty = [a for a, _ in inside], [n for _, n in inside]
    return decide(assignments, calibration, target_precision, config, novelty, thresholds)


def level_confidences(evidence, calibration):
    """Calibrated confidence of each level of the prediction: the probability that the path down
    to it is right, the product of each level's probability given the one above it."""
    confidences, confidence = [], 1.0
    for depth, features in enumerate(evidence.levels, start=1):
        confidence *= calibration.probability(depth, features, evidence.photos > 1)
        confidences.append(confidence)
    return tuple(confidences)


def _uncalibrated(evidence, config):
    """Without a calibration the vote's own threshold descent stands, and everything needs review."""
    path, confidences = (), ()
    for depth in range(1, len(evidence.predicted) + 1):
        node = evidence.predicted[:depth]
        siblings = [evidence.node_share[s] for s in children(evidence.node_share, node[:-1]) if s != node]
        share = evidence.node_share[node]
        if share < config.threshold or any(math.isclose(share, s) for s in siblings):
            break
        path, confidences = node, confidences + (share,)
    every_level = tuple(evidence.node_share[evidence.predicted[:d]] for d in range(1, len(evidence.predicted) + 1))
    return Decision(path, confidences, outcomes.NEEDS_REVIEW, 0, evidence.predicted, every_level,
                    evidence.top_similarity, False)


# --- fitting ----------------------------------------------------------------------------------

def calibration_is_stale(index, folds=None, config=VoteConfig()):
    """Whether the index needs a new fit: it has none but has the references for one (untrained,
    or read through `folds`, the embedder's FoldPredictions), the one it has no longer fits its
    references, or it was fitted with other fold predictions."""
    if index.calibration is None:
        untrained = int((~index.trained_rows() & index.searched_rows()).sum())
        return untrained + len(_fold_neighbours(index, folds, config)) >= MIN_CALIBRATION_QUERIES
    return index.calibration.is_stale(index) or index.calibration.folds != _digest(folds)


def refresh_calibration(index, config=VoteConfig(), folds=None):
    """Fit the index's calibration if it has none or the references changed enough; True if refitted.
    An index with too few references the embedder did not train on (nor `folds` reads) is left
    uncalibrated."""
    if index.calibration is None:
        # The fit itself tells whether there are enough references for one: asking
        # calibration_is_stale first would read every fold prediction twice.
        index.calibration = fit_calibration(index, config, folds=folds)
        return index.calibration is not None
    if not calibration_is_stale(index, folds, config):
        return False
    index.calibration = fit_calibration(index, config, folds=folds)
    return True


def left_out_predictions(index, config=VoteConfig(), limit=MAX_CALIBRATION_QUERIES, seed=0, among=None, folds=None):
    """(true categories, Assignments, occasions) of the index's untrained references (of the
    reference ids `among`, when given), each voted on by the index without its own group (itself
    and the other photos of its occasion), and of the trained references that `folds` (the
    embedder's vision.fold_predictions.FoldPredictions) can be read for, as its fold models voted
    on them; at most `limit` of them, chosen at random."""
    return _left_out_votes(index, config, limit, seed, among, folds)[:3]


def _left_out_votes(index, config, limit, seed, among, folds):
    """left_out_predictions, and how many of them are its fold models'."""
    vectors, labels = index.labelled_vectors()
    by_folds = _fold_neighbours(index, folds, config)
    untrained = ~index.trained_rows() & index.searched_rows()
    if among is not None:
        untrained &= np.isin(index.reference_ids(), np.fromiter(among, np.int64, len(among)))
    folded = np.array(sorted(by_folds), np.int64)
    chosen = _sample(np.concatenate([np.flatnonzero(untrained), folded]), limit, seed)
    own, folded = chosen[~np.isin(chosen, folded)], chosen[np.isin(chosen, folded)]
    groups = index.row_groups()
    group_of = dict(zip(index.reference_ids().tolist(), groups.tolist()))
    searched = index.search(vectors[own], config.searched + _largest_group(groups, own))
    assignments = [vote([n for n in neighbours if group_of[n.reference_id] != groups[row]][:config.searched], config)
                   for row, neighbours in zip(own, searched)]
    assignments += [vote(by_folds[row], config) for row in folded.tolist()]
    rows = np.concatenate([own, folded])
    return [index.categories[labels[row]] for row in rows], assignments, groups[rows].tolist(), len(folded)


def _fold_neighbours(index, folds, config):
    """{row: its Neighbours as its fold model found them} for each trained row `folds` covers (one
    row of a photo held twice), read against the index as it is now: the neighbours still searched,
    of another group than the row's and another photo, their category today's. A row with fewer
    than k of them is left out: the index holds too little of what the fold model searched (an
    index of a few of those photos, or of many others) for its vote to be this index's. References
    added since (staff corrections, other imports) are never among them, as the fold models never
    saw them; untrained, they calibrate with their own left-out predictions."""
    if folds is None:
        return {}
    keys, trained, searched = index.row_keys(), index.trained_rows(), index.searched_rows()
    covered = np.flatnonzero(np.isin(keys, folds.queries) & (keys != 0) & trained & searched)
    covered = np.sort(covered[np.unique(keys[covered], return_index=True)[1]])
    groups, references, labels = index.row_groups(), index.reference_ids(), index.row_labels()
    row_of = {int(key): row for row, key in enumerate(keys.tolist()) if key and searched[row]}
    asked = {int(key): position for position, key in enumerate(folds.queries.tolist())}
    read = {}
    for row in covered.tolist():
        own = int(keys[row])
        position, neighbours = asked[own], []
        for key, similarity in zip(folds.neighbours[position].tolist(), folds.similarities[position].tolist()):
            other = row_of.get(key)
            if other is None or key == own or groups[other] == groups[row]:
                continue
            neighbours.append(Neighbour(int(references[other]), index.categories[labels[other]], similarity))
            if len(neighbours) == config.searched:
                break
        if len(neighbours) >= config.k:
            read[row] = neighbours
    return read


def _digest(folds):
    return folds.digest if folds is not None else ""


def left_out_accuracy(index, config=VoteConfig(), limit=MAX_CALIBRATION_QUERIES, seed=0, among=None):
    """(leaf accuracy, queries) of left_out_predictions: the index's untrained references (those
    of the reference ids `among`, when given), each voted on without its occasion; (None, n) with
    fewer than MIN_CALIBRATION_QUERIES."""
    truths, assignments, _ = left_out_predictions(index, config, limit, seed, among)
    if len(truths) < MIN_CALIBRATION_QUERIES:
        return None, len(truths)
    right = sum(predicted_path(a.node_confidence) == tuple(truth) for truth, a in zip(truths, assignments))
    return right / len(truths), len(truths)


def left_out_novelty(index, limit=MAX_CALIBRATION_QUERIES, seed=0):
    """Each sampled reference's similarity to its nearest reference of another occasion, in the
    novelty space. A separate novelty space is frozen features, which no reference trained, so
    every reference may be sampled; in the vote's own space only the untrained ones."""
    eligible = np.arange(len(index)) if index.has_novelty_space else np.flatnonzero(~index.trained_rows())
    candidates = _sample(eligible, limit, seed)
    groups = index.row_groups()
    similarities, rows = index.novelty_search(index.novelty_vectors()[candidates],
                                              _largest_group(groups, candidates) + 1)
    return [next((float(s) for s, r in zip(sims, found) if r >= 0 and groups[r] != groups[row]), -1.0)
            for row, sims, found in zip(candidates, similarities, rows)]


def _sample(rows, limit, seed):
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))


def _largest_group(groups, rows):
    """The most rows any of `rows`' groups has in the index: how far past them to search."""
    names, sizes = np.unique(groups, return_counts=True)
    size_of = dict(zip(names.tolist(), sizes.tolist()))
    return max((size_of[g] for g in groups[rows].tolist()), default=1)


def fit_calibration(index, config=VoteConfig(), seed=0, folds=None):
    """A Calibration from the index's left-out untrained references (and the trained ones `folds`
    covers: left_out_predictions), or None with too few."""
    truths, assignments, occasions, folded = _left_out_votes(index, config, MAX_CALIBRATION_QUERIES, seed, None,
                                                             folds)
    if len(truths) < MIN_CALIBRATION_QUERIES:
        return None
    own = len(truths) - folded
    source = " and ".join(([f"{own} left-out references the embedder did not train on"] if own else [])
                          + ([f"{folded} references it trained on, as its fold models saw them ({folds.source})"]
                             if folded else []))
    singles = [([a], truth) for a, truth in zip(assignments, truths)]
    groups = _listing_groups(truths, assignments, occasions, np.random.default_rng(seed)) or singles
    single_samples, group_samples = _level_samples(singles), _level_samples(groups)
    depths = int(max(single_samples[2].max(), group_samples[2].max()))
    models = [_fit_levels(*samples, depths) for samples in (single_samples, group_samples)]
    calibration = Calibration(np.stack([c for c, _ in models]), np.stack([i for _, i in models]),
                              _novelty_threshold(left_out_novelty(index, seed=seed)), np.zeros(0), np.zeros(0, bool),
                              np.zeros(0, np.int8), len(index), len(index.categories), len(truths), source,
                              folds=_digest(folds))
    # The thresholds are read off the confidences decide() gives (the products down the path), of
    # every level, against whether the path down to it was right.
    fit = [(confidence, right_to_depth(evidence.predicted, truth, depth), depth)
           for evidence, truth in ((pool(assignments), truth) for assignments, truth in singles)
           for depth, confidence in enumerate(level_confidences(evidence, calibration), start=1)]
    calibration.fit_confidence = np.array([c for c, _, _ in fit])
    calibration.fit_correct = np.array([r for _, r, _ in fit], bool)
    calibration.fit_depth = np.array([d for _, _, d in fit], np.int8)
    return calibration


def _fit_levels(features, correct, depths, count):
    """(coefficients (count, F), intercepts (count,)): a logistic model per depth."""
    fitted = [_fit_level(features[depths == depth], correct[depths == depth]) for depth in range(1, count + 1)]
    return np.stack([c for c, _ in fitted]), np.array([i for _, i in fitted])


def right_to_depth(predicted, truth, depth):
    """Whether a prediction's level at `depth` is right: the path down to it is the truth's (a
    level deeper than the truth is wrong). What the fit learns, and what audits label."""
    return predicted[:depth] == truth[:depth] and depth <= len(truth)


def _level_samples(samples):
    """(features, right, depth) of every level whose parent was right: what each depth's model,
    of a level's probability given its parent's, is fitted on."""
    features, correct, depths = [], [], []
    for assignments, truth in samples:
        evidence = pool(assignments)
        for depth, level in enumerate(evidence.levels, start=1):
            if evidence.predicted[:depth - 1] != truth[:depth - 1]:
                break
            features.append(level)
            correct.append(right_to_depth(evidence.predicted, truth, depth))
            depths.append(depth)
    return np.array(features).reshape(-1, len(FEATURES)), np.array(correct, bool), np.array(depths)


def _listing_groups(truths, assignments, occasions, rng):
    """Pseudo-listings of left-out references: each with others of its occasion, as a listing's
    photos are of one product taken together (others of its category when its occasion has no
    other), a share of them with a photo of another category."""
    by_category, by_occasion = {}, {}
    for i, (truth, occasion) in enumerate(zip(truths, occasions)):
        by_category.setdefault(truth, []).append(i)
        by_occasion.setdefault(occasion, []).append(i)
    groups = []
    for i, (truth, occasion) in enumerate(zip(truths, occasions)):
        same = [j for j in by_occasion[occasion] if j != i] or [j for j in by_category[truth] if j != i]
        if not same:
            continue
        size = int(rng.integers(2, MAX_GROUP + 1))
        members = [i, *rng.choice(same, min(size - 1, len(same)), replace=False)]
        if len(members) > 2 and len(by_category) > 1 and rng.random() < DISTRACTOR_SHARE:
            members[-1] = _other_category(truths, truth, rng)
        groups.append(([assignments[j] for j in members], truth))
    return groups


def _other_category(truths, truth, rng):
    while True:
        j = int(rng.integers(len(truths)))
        if truths[j] != truth:
            return j


def _fit_level(features, correct):
    """(coefficients, intercept) of a logistic model of `correct`; a constant one when the fit
    saw only right (or only wrong) answers. It is fitted on standardised features, so that the
    regularisation weighs them alike (a log-odds runs to ±9, a similarity lead to 0.3), and the
    scaling is folded into the coefficients."""
    if correct.all() or not correct.any():
        rate = (correct.sum() + 1) / (len(correct) + 2)
        return np.zeros(features.shape[1]), math.log(rate / (1 - rate))
    from sklearn.linear_model import LogisticRegression

    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION, max_iter=1000).fit((features - mean) / scale, correct)
    coefficients = model.coef_[0] / scale
    return coefficients, float(model.intercept_[0] - coefficients @ mean)


def _novelty_threshold(novelty):
    top = np.array([n for n in novelty if n > -1.0])
    median = np.median(top)
    return float(min(NOVELTY_CEILING, median - NOVELTY_SPREADS * (median - np.quantile(top, 0.05))))
