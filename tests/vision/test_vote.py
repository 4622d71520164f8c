import pytest

from vision.vote import Neighbour
from vision.vote import VoteConfig, vote

EQUAL = VoteConfig(temperature=None, threshold=0.5)


def neighbours(*specs):
    """specs: (category string 'A/B/C', similarity) in rank order."""
    return [Neighbour(i, tuple(c.split("/")), s) for i, (c, s) in enumerate(specs)]


def test_it_assigns_the_leaf_when_neighbours_agree():
    result = vote(neighbours(("Fruit/Apple/Gala", 0.9), ("Fruit/Apple/Gala", 0.8), ("Fruit/Apple/Gala", 0.7)), EQUAL)
    assert result.path == ("Fruit", "Apple", "Gala")
    assert result.confidences == pytest.approx((1.0, 1.0, 1.0))
    assert not result.stopped_above_leaf


def test_it_abstains_to_the_parent_when_the_leaf_is_uncertain():
    result = vote(neighbours(
        ("Fruit/Apple/Gala", 0.9), ("Fruit/Apple/Pink-Lady", 0.9), ("Fruit/Apple/Granny", 0.9),
        ("Fruit/Apple/Gala", 0.9), ("Fruit/Apple/Fuji", 0.9),
    ), EQUAL)
    assert result.path == ("Fruit", "Apple")
    assert result.confidences == pytest.approx((1.0, 1.0))
    assert result.stopped_above_leaf
    assert result.best_category == ("Fruit", "Apple", "Gala")


def test_it_abstains_on_an_exact_tie_between_siblings():
    result = vote(neighbours(("Fruit/Apple", 0.9), ("Fruit/Pear", 0.9)), EQUAL)
    assert result.path == ("Fruit",)


def test_a_tie_at_the_top_leaves_the_item_uncategorized():
    result = vote(neighbours(("Fruit/Apple", 0.9), ("Vegetables/Leek", 0.9)), EQUAL)
    assert result.path == ()
    assert result.confidence == 0.0


def test_ties_in_the_best_node_go_to_the_nearest_neighbour():
    result = vote(neighbours(("Fruit/Pear", 0.9), ("Fruit/Apple", 0.8)), EQUAL)
    assert result.best_category == ("Fruit", "Pear")
    assert result.best_at_depth(2) == ("Fruit", "Pear")


def test_leaves_at_mixed_depths_share_their_ancestors_votes():
    result = vote(neighbours(
        ("Fruit/Banana", 0.9), ("Fruit/Banana", 0.9), ("Fruit/Apple/Gala", 0.9), ("Fruit/Apple/Gala", 0.9),
        ("Fruit/Apple/Gala", 0.9),
    ), EQUAL)
    assert result.node_confidence[("Fruit",)] == pytest.approx(1.0)
    assert result.node_confidence[("Fruit", "Banana")] == pytest.approx(0.4)
    assert result.path == ("Fruit", "Apple", "Gala")
    assert result.confidences == pytest.approx((1.0, 0.6, 0.6))


def test_a_shallow_leaf_is_a_full_assignment():
    result = vote(neighbours(("Fruit/Banana", 0.9), ("Fruit/Banana", 0.8), ("Fruit/Apple/Gala", 0.7)), EQUAL)
    assert result.path == ("Fruit", "Banana")
    assert not result.stopped_above_leaf


def test_similarity_weighting_lets_a_close_minority_win():
    specs = (("Fruit/Apple", 0.95), ("Fruit/Pear", 0.60), ("Fruit/Pear", 0.60))
    assert vote(neighbours(*specs), EQUAL).best_category == ("Fruit", "Pear")
    weighted = vote(neighbours(*specs), VoteConfig(temperature=0.05))
    assert weighted.path == ("Fruit", "Apple")


def test_a_higher_threshold_stops_earlier():
    specs = (("Fruit/Apple", 0.9), ("Fruit/Apple", 0.9), ("Fruit/Pear", 0.9))
    assert vote(neighbours(*specs), EQUAL).path == ("Fruit", "Apple")
    assert vote(neighbours(*specs), VoteConfig(temperature=None, threshold=0.8)).path == ("Fruit",)


def test_it_reports_alternatives_best_first():
    result = vote(neighbours(
        ("A/x", 0.9), ("A/x", 0.9), ("A/x", 0.9), ("A/y", 0.9), ("A/y", 0.9), ("B/z", 0.9),
    ), EQUAL)
    assert [path for path, _ in result.alternatives] == [("A", "y"), ("B", "z")]
    assert [c for _, c in result.alternatives] == pytest.approx([2 / 6, 1 / 6])


def test_when_it_stops_above_the_leaf_the_likely_leaves_are_the_alternatives():
    result = vote(neighbours(("A/x", 0.9), ("A/x", 0.9), ("A/y", 0.9), ("A/z", 0.9), ("A/w", 0.9)), EQUAL)
    assert result.path == ("A",)
    assert [path for path, _ in result.alternatives][:2] == [("A", "x"), ("A", "y")]


def test_only_the_k_nearest_vote():
    specs = (("A/x", 0.9), ("B/y", 0.8), ("B/y", 0.7), ("B/y", 0.6))
    assert vote(neighbours(*specs), VoteConfig(k=1, temperature=None)).path == ("A", "x")
    assert len(vote(neighbours(*specs), VoteConfig(k=1)).neighbours) == 1


def test_the_neighbours_beyond_the_voters_are_kept_as_evidence_up_to_evidence_k():
    specs = [("A/x", 0.9 - 0.01 * i) for i in range(10)]
    result = vote(neighbours(*specs), VoteConfig(k=3, evidence_k=6))
    assert [n.reference_id for n in result.neighbours] == [0, 1, 2]
    assert [n.reference_id for n in result.context] == [0, 1, 2, 3, 4, 5]
    assert VoteConfig(k=20, evidence_k=5).searched == 20


def test_no_neighbours_means_no_assignment():
    result = vote([], EQUAL)
    assert result.path == () and result.best_category == () and result.alternatives == []


@pytest.mark.parametrize("bad", [dict(k=0), dict(evidence_k=0), dict(threshold=0), dict(threshold=1.5),
                                 dict(temperature=0)])
def test_it_rejects_invalid_settings(bad):
    with pytest.raises(ValueError):
        VoteConfig(**bad)
