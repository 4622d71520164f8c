import numpy as np

from tests.photos import iconic_folder
from vision.evaluate_cam import get_args_parser, main, peak


class Weights:
    resize_size = crop_size = 224


def test_the_peak_lands_on_the_hot_cell_in_photo_pixels():
    activation = np.zeros((7, 7), np.float32)
    activation[1, 5] = 1.0  # row 1, column 5
    x, y = peak(activation, (100, 50, 240, 190), Weights())  # a 140-pixel square crop at (100, 50)
    assert abs(x - (100 + 5.5 * 20)) <= 10 and abs(y - (50 + 1.5 * 20)) <= 10


def test_the_peak_of_a_wide_crop_stays_in_its_centre_square():
    activation = np.zeros((7, 7), np.float32)
    activation[3, 0] = 1.0
    x, _ = peak(activation, (0, 0, 400, 100), Weights())  # the embedder saw x in 150..250
    assert 150 <= x < 170


def test_the_pointing_game_reports_its_figures(small_catalogue, tmp_path):
    iconic_folder()  # skips the test when the dataset is not there
    figures = main(get_args_parser().parse_args([
        "--reference", str(small_catalogue[0]), "--composites", "4", "--segmenter", "none",
        "--json", str(tmp_path / "cam.json"),
    ]))
    assert figures["composites"] == 4 and figures["segmenter"] is None and figures["runtime"] == "onnx"
    for key in ("pointing_accuracy", "pointing_accuracy_strict", "pointing_accuracy_assigned_category"):
        assert 0 <= figures[key] <= 1
    assert figures["pointing_accuracy_strict"] <= figures["pointing_accuracy"]
    assert (tmp_path / "cam.json").exists()

