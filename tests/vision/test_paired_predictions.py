"""bench.paired_predictions: two runs' predictions of the same photos, paired photo by photo."""

import csv
import json

import pytest

from bench.paired_predictions import get_args_parser, main

TRUE = "Fruit > Apple > Pink-Lady"


def _write(path, predicted_by_photo):
    with open(path, "w", newline="") as handle:
        rows = csv.DictWriter(handle, ["path", "true_path", "predicted_path"])
        rows.writeheader()
        rows.writerows({"path": photo, "true_path": TRUE, "predicted_path": predicted}
                       for photo, predicted in predicted_by_photo.items())
    return str(path)


def test_photos_right_in_one_run_only_are_counted_each_way_and_tested(tmp_path, capsys):
    baseline = _write(tmp_path / "base.csv", {f"p{n}.jpg": TRUE for n in range(8)} | {"p8.jpg": "Fruit > Pear"})
    # Six photos lost, one gained, one more photo the baseline never saw (not paired).
    other = _write(tmp_path / "other.csv", {f"p{n}.jpg": "Fruit > Apple > Royal-Gala" for n in range(6)}
                   | {"p6.jpg": TRUE, "p7.jpg": TRUE, "p8.jpg": TRUE, "p9.jpg": TRUE})
    main(get_args_parser().parse_args([baseline, other, "--json", str(tmp_path / "paired.json")]))
    [row] = json.loads((tmp_path / "paired.json").read_text())["comparisons"]
    counts = row["photos"], row["right_only_here"], row["right_only_in_baseline"], row["same_prediction"]
    assert counts == (9, 1, 6, 2)
    assert row["accuracy"] == pytest.approx(3 / 9) and row["baseline_accuracy"] == pytest.approx(8 / 9)
    assert row["sign_test_p"] == pytest.approx(2 * (1 + 7) / 2 ** 7)  # P(at most 1 of 7) both ways
    assert "right only here 1, only there 6" in capsys.readouterr().out


def test_at_a_shallower_depth_a_wrong_leaf_under_the_right_parent_is_right(tmp_path):
    baseline = _write(tmp_path / "base.csv", {"p.jpg": TRUE})
    other = _write(tmp_path / "other.csv", {"p.jpg": "Fruit > Apple > Royal-Gala"})
    main(get_args_parser().parse_args([baseline, other, "--depth", "2", "--json", str(tmp_path / "paired.json")]))
    [row] = json.loads((tmp_path / "paired.json").read_text())["comparisons"]
    assert (row["accuracy"], row["right_only_in_baseline"], row["sign_test_p"]) == (1.0, 0, 1.0)
