import pytest

from vision.calibration import decide
from vision.scoring import Result, calibration_figures, score
from vision.vote import Neighbour
from vision.vote import VoteConfig, vote


def assignment(*categories):
    neighbours = [Neighbour(i, tuple(c.split("/")), 0.9) for i, c in enumerate(categories)]
    return vote(neighbours, VoteConfig(temperature=None))


def test_accuracy_by_depth_ignores_the_threshold_but_assigned_accuracy_does_not():
    results = [
        (("F", "Apple", "Gala"), assignment("F/Apple/Gala", "F/Apple/Gala")),  # right leaf
        (("F", "Apple", "Gala"), assignment("F/Apple/Fuji", "F/Apple/Gala", "F/Apple/Fuji")),  # wrong leaf
        (("F", "Apple", "Gala"), assignment("F/Apple/Gala", "F/Apple/Fuji")),  # tie: stops at Apple
        (("F", "Banana"), assignment("F/Banana")),  # shallow leaf
    ]
    figures = score(results)
    assert figures["accuracy_by_depth"] == {"1": 1.0, "2": 1.0, "leaf": 0.75}
    assert figures["abstain_rate"] == pytest.approx(0.25)
    assert figures["assigned_accuracy"] == pytest.approx(0.75)
    assert figures["n_queries"] == 4


def test_answers_none_of_which_was_calibrated_have_no_calibration_error_rather_than_one_of_zero():
    """An index too small to calibrate: 0.000 would read as a perfect calibration."""
    answer = assignment("F/Banana")
    figures = calibration_figures([Result("q.jpg", ("F", "Banana"), answer, decide([answer], None, 0.98))], 0.98)
    assert figures["calibrated_share"] == 0 and figures["calibration_error"] is None
    assert figures["calibration_error_by_depth"] == {"1": None, "2": None, "leaf": None}
