"""bench.paired_predictions: two runs' predictions of the same photos, paired photo by photo."""

import csv
import json

import pytest

from bench.paired_predictions import get_args_parser, main

TRUE = "Fruit > Apple > Pink-Lady"


def _write(path, predicted_by_photo, true=TRUE):
    with open(path, "w", newline="") as handle:
        rows = csv.DictWriter(handle, ["path", "true_path", "predicted_path"])
        rows.writeheader()
        rows.writerows({"path": photo, "true_path": true, "predicted_path": predicted}
                       for photo, predicted in predicted_by_photo.items())
    return str(path)


def _compare(tmp_path, *arguments):
    main(get_args_parser().parse_args([*arguments, "--json", str(tmp_path / "paired.json")]))
    [row] = json.loads((tmp_path / "paired.json").read_text())["comparisons"]
    return row


def test_photos_right_in_one_run_only_are_counted_each_way_and_tested(tmp_path, capsys):
    baseline = _write(tmp_path / "base.csv", {f"p{n}.jpg": TRUE for n in range(8)} | {"p8.jpg": "Fruit > Pear"})
    # Six photos lost, one gained, and one photo the baseline never saw (left out, and said so).
    other = _write(tmp_path / "other.csv", {f"p{n}.jpg": "Fruit > Apple > Royal-Gala" for n in range(6)}
                   | {"p6.jpg": TRUE, "p7.jpg": TRUE, "p8.jpg": TRUE, "p9.jpg": TRUE})
    row = _compare(tmp_path, baseline, other)
    counts = row["photos"], row["right_only_here"], row["right_only_in_baseline"], row["same_prediction"]
    assert counts == (9, 1, 6, 2) and (row["only_in_this_run"], row["only_in_baseline_run"]) == (1, 0)
    assert row["accuracy"] == pytest.approx(3 / 9) and row["baseline_accuracy"] == pytest.approx(8 / 9)
    assert row["sign_test_p"] == pytest.approx(2 * (1 + 7) / 2 ** 7)  # P(at most 1 of 7) both ways
    out = capsys.readouterr().out
    assert "9 photos in both (1 in one only, left out)" in out
    assert "right only in other.csv 1, only in base.csv 6" in out


def test_at_a_shallower_depth_a_wrong_leaf_under_the_right_parent_is_right(tmp_path):
    baseline = _write(tmp_path / "base.csv", {"p.jpg": TRUE})
    other = _write(tmp_path / "other.csv", {"p.jpg": "Fruit > Apple > Royal-Gala"})
    row = _compare(tmp_path, baseline, other, "--depth", "2")
    assert (row["accuracy"], row["right_only_in_baseline"], row["sign_test_p"]) == (1.0, 0, 1.0)


def test_a_true_category_shallower_than_the_depth_is_compared_to_its_own_depth(tmp_path):
    """As vision.evaluate counts it: to depth 3, a pear named under Pear is right; as a leaf it is not."""
    baseline = _write(tmp_path / "base.csv", {"p.jpg": "Fruit > Pear"}, true="Fruit > Pear")
    other = _write(tmp_path / "other.csv", {"p.jpg": "Fruit > Pear > Conference"}, true="Fruit > Pear")
    assert _compare(tmp_path, baseline, other, "--depth", "3")["accuracy"] == 1.0
    assert _compare(tmp_path, baseline, other)["right_only_in_baseline"] == 1


def test_runs_of_other_photos_or_another_catalogue_are_refused(tmp_path):
    baseline = _write(tmp_path / "base.csv", {"p.jpg": TRUE})
    with pytest.raises(SystemExit, match="share no photo"):
        _compare(tmp_path, baseline, _write(tmp_path / "other.csv", {"q.jpg": TRUE}))
    with pytest.raises(SystemExit, match="another true category"):
        _compare(tmp_path, baseline, _write(tmp_path / "other.csv", {"p.jpg": TRUE}, true="Fruit > Pear"))
    assert not (tmp_path / "paired.json").exists()
