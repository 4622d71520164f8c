"""The measuring commands refuse what cannot be measured as they read the command line, or before
the references are embedded (an hour on a large tree), in one line that names the option."""

import importlib

import pytest
from PIL import Image

from vision import experiment
from vision.evaluate import get_args_parser, main
from vision.training import fold_predictions


@pytest.mark.parametrize("command, option, value", [
    ("vision.evaluate", "--holdout-fraction", "1"),
    ("vision.evaluate", "--target-precision", "0"),
    ("vision.evaluate_items", "--holdout-fraction", "1.5"),
    ("vision.evaluate_items", "--target-precision", "1"),
])
def test_a_fraction_out_of_its_range_is_refused(command, option, value, capsys):
    with pytest.raises(SystemExit):
        importlib.import_module(command).get_args_parser().parse_args([option, value])
    assert f"{option}: must be between 0 and 1" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["vision.evaluate_cam", "vision.evaluate_segmentation"])
def test_no_composites_to_measure_on_are_refused(command, capsys):
    """evaluate_cam divided its hits by zero."""
    with pytest.raises(SystemExit):
        importlib.import_module(command).get_args_parser().parse_args(["--composites", "0"])
    assert "--composites: must be a whole number, at least 1 (not '0')" in capsys.readouterr().err


def test_segmentation_is_measured_on_other_composites_than_those_tuned_and_chosen_on_by_default():
    from vision.evaluate_segmentation import get_args_parser as segmentation_parser
    from vision.training.train_segmenter import VALIDATION_SEED

    assert segmentation_parser().parse_args([]).seed == 2000 != VALIDATION_SEED


def test_segmenter_none_categorizes_whole_photos_as_in_the_other_commands():
    assert get_args_parser().parse_args(["--reference", "r", "--segmenter", "none"]).segmenter is None


@pytest.fixture
def no_model(monkeypatch):
    """Loading the embedder fails the test: the refusal must come before."""
    def never(*_, **__):
        raise AssertionError("the embedder was loaded")

    monkeypatch.setattr(experiment, "load_embedder", never)


def _photo(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32)).save(path)


@pytest.mark.parametrize("option, message", [
    ("--queries", "--queries folder not found: "),
    ("--outside", "--outside folder not found: "),
    ("--json", r"--json .*: its folder .* is not there"),
    ("--predictions", r"--predictions .*: its folder .* is not there"),
])
def test_a_folder_that_is_not_there_is_refused_before_any_model_loads(option, message, tmp_path, no_model):
    _photo(tmp_path / "reference" / "Fruit" / "a.jpg")
    measured = [] if option == "--queries" else ["--queries", str(tmp_path / "reference")]
    given = str(tmp_path / "typo" / ("out.json" if option in ("--json", "--predictions") else ""))
    with pytest.raises(SystemExit, match=message):
        main(get_args_parser().parse_args(["--reference", str(tmp_path / "reference"), *measured, option, given]))


def test_queries_in_no_category_folder_are_refused_rather_than_scored_0(tmp_path, no_model):
    _photo(tmp_path / "reference" / "Fruit" / "a.jpg")
    _photo(tmp_path / "queries" / "b.jpg")  # no folder: no category to be right or wrong about
    with pytest.raises(SystemExit, match="--queries .* holds no photo in a category folder"):
        main(get_args_parser().parse_args(["--reference", str(tmp_path / "reference"),
                                           "--queries", str(tmp_path / "queries")]))


def test_queries_none_of_which_can_be_read_are_refused_rather_than_scored_0(small_catalogue, tmp_path):
    broken = tmp_path / "unreadable" / "Fruit" / "Banana" / "broken.jpg"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(SystemExit, match="None of the 1 queries could be read: .*broken.jpg"):
        main(get_args_parser().parse_args(["--reference", str(small_catalogue[0]),
                                           "--queries", str(tmp_path / "unreadable")]))


def test_fold_embedders_missing_from_the_onnx_dir_named_are_not_looked_for_elsewhere(tmp_path):
    args = fold_predictions.get_args_parser().parse_args([
        "--fold", "grocery", "--catalogue", str(tmp_path), "--out", str(tmp_path / "folds.npz"),
        "--onnx-dir", str(tmp_path / "onnx")])
    with pytest.raises(SystemExit, match=r"--onnx-dir .*onnx has no grocery\.onnx: make it there with "
                                         r"`python -m vision.training.export_onnx grocery --out-dir "):
        fold_predictions.main(args)


def test_a_held_out_part_of_several_reference_trees_is_refused(tmp_path, no_model):
    """Training held out a part of one tree, split as it split it: a part of several is another split."""
    _photo(tmp_path / "a" / "Fruit" / "a.jpg")
    _photo(tmp_path / "b" / "Fruit" / "b.jpg")
    with pytest.raises(SystemExit, match="--holdout-fraction measures the part of one reference tree"):
        main(get_args_parser().parse_args(["--reference", str(tmp_path / "a"), str(tmp_path / "b"),
                                           "--holdout-fraction", "0.2"]))
