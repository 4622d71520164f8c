import csv
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.photos import ECSSD, copy_small_catalogue
from vision.evaluate import get_args_parser, main
from vision.experiment import MEASURED_TEXT_WEIGHT
from vision.text import ENGINE


def test_it_measures_a_small_catalogue_and_writes_the_json(small_catalogue, tmp_path, capsys):
    reference, queries = small_catalogue
    (reference / "Fruit" / "Banana" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    args = get_args_parser().parse_args([
        "--reference", str(reference), "--queries", str(queries), "--json", str(tmp_path / "out.json"),
    ])
    main(args)
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["n_reference"] == 24 and figures["n_queries"] == 9
    assert figures["text"] is None and figures["vote"]["text_weight"] == 0  # as the app: no text
    assert figures["backbone"] == "efficientnet_lite0-imagenet-1"
    assert set(figures["accuracy_by_depth"]) == {"1", "2", "leaf"}
    assert figures["accuracy_by_depth"]["leaf"] >= 7 / 9
    accuracy = figures["accuracy_by_depth"]
    assert accuracy["1"] >= accuracy["2"] >= accuracy["leaf"]
    by_subtree = figures["accuracy_by_subtree"]
    assert set(by_subtree) == {"Fruit", "Vegetables"} and set(by_subtree["Fruit"]) == {"1", "2", "leaf"}
    # 6 fruit queries (two leaves) and 3 vegetables: the subtrees make up the whole.
    fruit, vegetables = by_subtree["Fruit"]["leaf"], by_subtree["Vegetables"]["leaf"]
    assert (6 * fruit + 3 * vegetables) / 9 == pytest.approx(accuracy["leaf"])
    assert 0 <= figures["abstain_rate"] <= 1 and 0 <= figures["assigned_accuracy"] <= 1
    assert figures["images_per_second"] > 0
    assert [s["path"].rsplit("/", 1)[-1] for s in figures["skipped"]] == ["broken.jpg"]
    printed = capsys.readouterr()
    assert "accuracy leaf" in printed.out and "worst classes" in printed.out
    assert "broken.jpg" in printed.err


SHAPES = {  # leaf path: (shape, colour); leaves at depths 2, 3 and 4, names with spaces
    "Stationery/Yellow triangles": ("triangle", (230, 200, 20)),
    "Home & Garden/Tiles/Green squares": ("square", (30, 160, 60)),
    "Home & Garden/Decor/Cushions/Red discs": ("disc", (210, 30, 30)),
    "Home & Garden/Decor/Cushions/Blue discs": ("disc", (30, 60, 210)),
}


def draw(shape, colour, rng):
    image = Image.new("RGB", (160, 160), tuple(int(v) for v in rng.integers(200, 256, 3)))
    size = int(rng.integers(50, 90))
    left, top = (int(v) for v in rng.integers(5, 155 - size, 2))
    box = [left, top, left + size, top + size]
    canvas = ImageDraw.Draw(image)
    if shape == "disc":
        canvas.ellipse(box, fill=colour)
    elif shape == "square":
        canvas.rectangle(box, fill=colour)
    else:
        canvas.polygon([(left, top + size), (left + size, top + size), (left + size // 2, top)], fill=colour)
    return image


def make_shape_catalogue(root, per_leaf, seed):
    rng = np.random.default_rng(seed)
    for leaf, (shape, colour) in SHAPES.items():
        (root / leaf).mkdir(parents=True)
        for i in range(per_leaf):
            draw(shape, colour, rng).save(root / leaf / f"item {i}.png")
    return root


def test_several_reference_trees_are_one_catalogue_a_photo_in_two_counted_once(small_catalogue, tmp_path):
    """As import_catalog imports them (the demo: Grocery train and val): the second tree holds the
    first's 8 photos a leaf and 2 more."""
    reference, queries = small_catalogue
    more = copy_small_catalogue(tmp_path / "more", "train", 10)
    figures = main(get_args_parser().parse_args(["--reference", str(reference), str(more), "--queries", str(queries)]))
    assert figures["n_reference"] == 24 + 6 and figures["n_queries"] == 9


def test_it_works_unchanged_on_an_unseen_catalogue_of_two_to_four_levels(tmp_path):
    reference = make_shape_catalogue(tmp_path / "reference", 8, seed=1)
    queries = make_shape_catalogue(tmp_path / "queries", 3, seed=2)
    args = get_args_parser().parse_args(["--reference", str(reference), "--queries", str(queries),
                                         "--json", str(tmp_path / "out.json")])
    main(args)
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["n_reference"] == 32 and figures["n_queries"] == 12
    assert figures["accuracy_by_depth"]["1"] == 1.0
    assert figures["accuracy_by_depth"]["leaf"] >= 10 / 12


def test_cross_validation_measures_calibration_and_writes_predictions_and_a_diagram(tmp_path):
    reference = copy_small_catalogue(tmp_path / "reference", "train", 20)
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("0004.jpg", "0006.jpg"):
        shutil.copy(os.path.join(ECSSD, "images", name), outside)
    args = get_args_parser().parse_args([
        "--reference", str(reference), "--cv", "3", "--outside", str(outside), "--json", str(tmp_path / "cv.json"),
        "--predictions", str(tmp_path / "predictions.csv"),
    ])
    main(args)
    figures = json.loads((tmp_path / "cv.json").read_text())
    assert figures["n_queries"] == 60 and figures["protocol"].startswith("3-fold cross-validation")
    assert figures["calibrated_share"] == 1.0 and 0 <= figures["calibration_error"] <= 1
    assert set(figures["calibration_error_by_depth"]) == {"1", "2", "leaf"}
    assert 0 < figures["largest_confidence_tie"] <= 1
    assert set(figures["coverage_at_precision"]) == {"0.95", "0.98", "0.99"}
    assert set(figures["auto_accept"]) >= {"target_precision", "coverage", "precision"}
    assert figures["outside"]["n_outside"] == 2 and figures["outside"]["flagged_rate"] == 1.0
    assert (tmp_path / "cv-reliability.png").stat().st_size > 1000
    with open(tmp_path / "predictions.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60 and {"path", "true_path", "assigned_path", "confidences", "top_similarity",
                                "outcome"} <= set(rows[0])


def test_the_held_out_part_alone_is_measured_once_against_the_rest_and_may_be_segmented(tmp_path):
    reference = copy_small_catalogue(tmp_path / "reference", "train", 10)
    figures = main(get_args_parser().parse_args(["--reference", str(reference), "--holdout-fraction", "0.2",
                                                 "--segmenter", "unet_lite0_real"]))
    assert figures["n_queries"] + figures["n_reference"] == 30 and 3 <= figures["n_queries"] <= 9
    assert figures["protocol"].startswith("the 20% held-out part")
    assert "main item by unet_lite0_real" in figures["protocol"]
    assert figures["accuracy_by_depth"]["1"] >= 0.5
    with pytest.raises(SystemExit, match="Say what to measure on"):
        main(get_args_parser().parse_args(["--reference", str(reference)]))
    with pytest.raises(SystemExit, match="does not go with --queries"):
        main(get_args_parser().parse_args(["--reference", str(reference), "--queries", str(reference),
                                           "--holdout-fraction", "0.2"]))


def test_it_refuses_queries_and_folds_the_embedder_trained_on(small_catalogue, tiny_embedder, tmp_path):
    reference, _ = small_catalogue
    seen = get_args_parser().parse_args(["--reference", str(reference), "--queries", str(reference),
                                         "--backbone", tiny_embedder])
    with pytest.raises(SystemExit, match="24 queries are photos tiny was trained on"):
        main(seen)
    folds = get_args_parser().parse_args(["--reference", str(reference), "--cv", "3", "--backbone", tiny_embedder])
    with pytest.raises(SystemExit, match="trained on every photo"):
        main(folds)


def test_an_index_left_without_a_calibration_says_so_rather_than_an_error_of_zero(small_catalogue, tiny_embedder,
                                                                                   capsys):
    """The embedder trained on every reference: none is left to calibrate on."""
    reference, queries = small_catalogue
    main(get_args_parser().parse_args(["--reference", str(reference), "--queries", str(queries),
                                       "--backbone", tiny_embedder]))
    printed = capsys.readouterr().out
    assert "calibration         none: the index held too few references the embedder never trained on" in printed
    assert "calibration error" not in printed


def test_with_text_it_reads_every_photo_and_lets_the_words_weigh_in(tmp_path):
    reference = copy_small_catalogue(tmp_path / "reference", "train", 2)
    queries = copy_small_catalogue(tmp_path / "queries", "val", 1)
    figures = main(get_args_parser().parse_args(["--reference", str(reference), "--queries", str(queries), "--text"]))
    assert figures["text"] == ENGINE and figures["vote"]["text_weight"] == MEASURED_TEXT_WEIGHT
    assert figures["n_queries"] == 3 and set(figures["accuracy_by_subtree"]) == {"Fruit", "Vegetables"}


def test_with_audit_it_refits_the_thresholds_on_labelled_queries_and_measures_the_rest(tmp_path, capsys):
    reference = make_shape_catalogue(tmp_path / "reference", 15, seed=3)
    figures = main(get_args_parser().parse_args(["--reference", str(reference), "--cv", "3", "--audit", "20",
                                                 "--audit-seed", "4"]))
    audit = figures["audit"]
    assert audit["audited"] == 20 and audit["seed"] == 4 and len(audit["thresholds_after"]) == 3  # a fold each
    for when in ("before", "after"):
        assert set(audit[when]) == {"coverage", "precision", "precision_lower_95", "at_parent_coverage",
                                    "at_parent_precision"}
        assert 0 <= audit[when]["coverage"] + audit[when]["at_parent_coverage"] <= 1
    assert "audit after  20 labelled" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="--audit must be between 1 and"):
        main(get_args_parser().parse_args(["--reference", str(reference), "--cv", "3", "--audit", "60"]))
