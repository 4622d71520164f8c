"""Hierarchical vote: from k nearest references to a category path with a confidence per level.

Every neighbour votes, with a weight that grows with its similarity, for its category and
all of that category's ancestors; a node's confidence is its share of the total weight.
The assignment walks down from the root, taking the most confident child while it reaches
the threshold and is strictly ahead of its runner-up: when the evidence runs out (or two
children tie) it stops at the parent rather than guess.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Neighbour:
    """A reference the index found near a query: what each vote is made of."""

    reference_id: int
    category: tuple
    similarity: float


@dataclass(frozen=True)
class VoteConfig:
    k: int = 15
    # Neighbours searched for the calibrated evidence (vision.calibration); the first k vote. With
    # k alone every level of most photos has all its voters agreeing, so the confidence of those
    # photos saturated at one value and no threshold could rank them: how far the agreement goes
    # beyond the voters, and by how much, is what tells them apart (bench/README.md, "Audits").
    evidence_k: int = 50
    # Softmax temperature on cosine similarity; None weighs every neighbour equally.
    temperature: float | None = 0.03
    threshold: float = 0.5
    alternatives: int = 5
    # How much the text read on an item (vision.text) moves the vote: a neighbour's weight is
    # multiplied by exp(text_weight × the text similarity of its category). 0: text is ignored.
    text_weight: float = 0.0

    def __post_init__(self):
        if self.k < 1:
            raise ValueError("k must be at least 1.")
        if self.evidence_k < 1:
            raise ValueError("evidence_k must be at least 1.")
        if not 0 < self.threshold <= 1:
            raise ValueError("threshold must be in (0, 1].")
        if self.temperature is not None and self.temperature <= 0:
            raise ValueError("temperature must be positive (or None for equal weights).")
        if self.text_weight < 0:
            raise ValueError("text_weight must be 0 or more.")

    @property
    def searched(self):
        """How many neighbours to search for: the voters and the evidence beyond them."""
        return max(self.k, self.evidence_k)


@dataclass
class Assignment:
    path: tuple  # assigned category path; () when even the top level is uncertain
    confidences: tuple  # confidence of each node on `path`
    best_category: tuple  # the most confident referenced category, whatever the threshold
    alternatives: list  # [(category path, confidence)]: the most confident categories other than `path`
    neighbours: list  # the Neighbours that voted
    node_confidence: dict = field(repr=False)  # every node on a candidate path
    # The nearest config.searched references, voters first: the evidence beyond the vote.
    context: list = field(default_factory=list, repr=False)

    @property
    def confidence(self):
        return self.confidences[-1] if self.confidences else 0.0

    @property
    def stopped_above_leaf(self):
        return self.path not in {n.category for n in self.neighbours}

    @property
    def predicted(self):
        """The full predicted path: the most confident child at every level, down to a referenced
        category (what calibration scores, level by level)."""
        return predicted_path(self.node_confidence)

    def best_at_depth(self, depth):
        """The most confident node with `depth` levels (ties go to the nearest neighbour's)."""
        nodes = [node for node in self.node_confidence if len(node) == depth]
        return max(nodes, key=self.node_confidence.get) if nodes else None


def vote(neighbours, config=VoteConfig(), text_similarities=None):
    """The Assignment of the nearest `neighbours` (the first k vote; up to config.searched are kept
    as its context); `text_similarities` ({category: similarity}, vision.text.TextProfiles) re-weigh
    the voters by the text read on the item. The text only re-ranks the categories the neighbours
    bring: it never adds one."""
    context = list(neighbours)[:config.searched]
    neighbours = context[:config.k]
    if not neighbours:
        return Assignment((), (), (), [], [], {})
    node_confidence = _node_confidence(neighbours, config.temperature, config.text_weight, text_similarities or {})
    path, confidences = _descend(node_confidence, config.threshold)
    ranked = _ranked_categories(neighbours, node_confidence)
    return Assignment(
        path=path,
        confidences=confidences,
        best_category=ranked[0],
        alternatives=[(c, node_confidence[c]) for c in ranked if c != path][:config.alternatives],
        neighbours=neighbours,
        node_confidence=node_confidence,
        context=context,
    )


def _weights(neighbours, temperature, text_weight, text_similarities):
    if temperature is None:
        weights = [1.0] * len(neighbours)
    else:
        top = max(n.similarity for n in neighbours)
        weights = [math.exp((n.similarity - top) / temperature) for n in neighbours]
    return [weight * math.exp(text_weight * text_similarities.get(n.category, 0.0))
            for weight, n in zip(weights, neighbours)]


def _node_confidence(neighbours, temperature, text_weight=0.0, text_similarities=None):
    weights = _weights(neighbours, temperature, text_weight, text_similarities or {})
    total = sum(weights)
    confidence = defaultdict(float)  # insertion order = nearest neighbour first, for ties
    for neighbour, weight in zip(neighbours, weights):
        for depth in range(1, len(neighbour.category) + 1):
            confidence[neighbour.category[:depth]] += weight / total
    return dict(confidence)


def children(node_confidence, parent):
    """The nodes one level under `parent`, nearest neighbour's first."""
    return [n for n in node_confidence if len(n) == len(parent) + 1 and n[:len(parent)] == parent]


def predicted_path(node_confidence):
    """Descend by the most confident child (ties: the nearest neighbour's) while there is one."""
    path = ()
    while True:
        below = children(node_confidence, path)
        if not below:
            return path
        path = max(below, key=node_confidence.get)


def _descend(node_confidence, threshold):
    path, confidences = (), ()
    while True:
        below = sorted(children(node_confidence, path), key=node_confidence.get, reverse=True)
        if not below:
            return path, confidences
        best = node_confidence[below[0]]
        runner_up = node_confidence[below[1]] if len(below) > 1 else 0.0
        if best < threshold or math.isclose(best, runner_up):
            return path, confidences
        path, confidences = below[0], confidences + (best,)


def _ranked_categories(neighbours, node_confidence):
    categories = list(dict.fromkeys(n.category for n in neighbours))
    return sorted(categories, key=node_confidence.get, reverse=True)
