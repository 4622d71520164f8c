"""Training the product detector: its targets, a few real steps on real boxed photos, the saved and
exported files, resuming and fine-tuning."""

import numpy as np
import pytest
import torch

from tests.photos import copy_boxed_freiburg
from vision.detect import STRIDE, OnnxDetector, with_foreground
from vision.unet import load_segmenter, segmenter_path


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory):
    """(root, history, photos, instances) of a detector named 'tiny': real steps on 24 boxed Freiburg
    photos and a few composites."""
    from vision.training.detector import get_args_parser, main

    root = tmp_path_factory.mktemp("tiny_detector")
    photos, instances, _ = copy_boxed_freiburg(root, per_product=12, boxed=12)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISION_WEIGHTS_DIR", str(root / "weights"))
        history = main(get_args_parser().parse_args(arguments(root, photos, instances, epochs=2)))
    return root, history, photos, instances


def arguments(root, photos, instances, epochs, *more):
    return ["--instances", str(instances), "--photos", str(photos), "--name", "tiny", "--epochs", str(epochs),
            "--eval-every", "1", "--composites", "4", "--batch-size", "4", "--input-size", "128", "--max-steps", "2",
            "--workers", "0", "--output-dir", str(root / "training"), *more]


@pytest.fixture
def weights(tiny_detector, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tiny_detector[0] / "weights"))
    return tiny_detector[0] / "weights"


def test_boxes_become_peaks_and_weighted_box_targets_the_smaller_in_front():
    from vision.training.detector import targets

    shelf, pack = (8, 8, 120, 120), (40, 40, 72, 88)
    heat, boxes, weights = targets([shelf, pack], 128)
    assert heat.shape == (16, 16) and heat.max() == 1 and (heat == 1).sum() == 2
    assert heat[64 // STRIDE, 56 // STRIDE] == 1  # the pack's centre cell
    assert boxes[:, 64 // STRIDE, 56 // STRIDE].tolist() == list(pack)  # its cells are the pack's, not the shelf's
    on_pack = (boxes == np.array(pack, np.float32)[:, None, None]).all(axis=0)
    assert weights[on_pack].sum() == pytest.approx(np.log(32 * 48), rel=1e-4)
    assert 0 < weights[~on_pack & (weights > 0)].sum() < np.log(112 * 112)  # the shelf, less the cells it gave up


def test_a_random_crop_drops_the_boxes_mostly_cut_away():
    from PIL import Image

    from vision.training.detector import _random_crop

    rng = np.random.default_rng(3)
    boxes = np.array([[0, 0, 50, 50], [150, 150, 200, 200]], np.float32)
    for _ in range(20):
        image, kept = _random_crop(Image.new("RGB", (200, 200)), boxes, rng)
        assert all(0 <= v <= max(image.size) for v in kept.ravel())
        assert all((right - left) * (bottom - top) >= 0.5 * 2500 for left, top, right, bottom in kept)


def test_it_saves_a_versioned_detector_with_the_threshold_chosen_on_its_tuning_part(tiny_detector, weights):
    _, history, _, _ = tiny_detector
    detector = load_segmenter("tiny")
    assert detector.finds_instances and detector.input_size == 128
    assert detector.version.startswith("tiny-")
    assert detector.settings.score_threshold == history[-1]["threshold"]
    tuning = history[-1]["tuning"]["0.3"]
    assert set(tuning) == {"item_recall", "item_precision", "item_f1", "n_products", "n_predicted", "unmatched_items"}
    matched = tuning["n_predicted"] - tuning["unmatched_items"]
    assert tuning["item_precision"] == round(matched / max(tuning["n_predicted"], 1), 4)
    stored = torch.load(segmenter_path("tiny"), weights_only=True)
    assert stored["trained_on"] and all(v.dtype == torch.float16 for v in stored["state_dict"].values()
                                        if v.is_floating_point())


def test_onnx_runtime_finds_the_items_pytorch_finds(tiny_detector, weights):
    from vision.images import load_image

    # At the input's own size: no resizing, whose antialiasing differs a little between torch and Pillow.
    image = load_image(next((tiny_detector[2] / "Drinks" / "Water").iterdir())).resize((128, 128))
    on_torch = load_segmenter("tiny")  # with the shipped UNet's foreground, which the ONNX one is given too
    on_onnx = with_foreground(OnnxDetector(str(weights / "onnx" / "tiny.onnx"), threads=1), on_torch.foreground)
    assert on_onnx.version == on_torch.version and on_onnx.settings == on_torch.settings
    (heat, distances), (onnx_heat, onnx_distances) = on_torch.predict(image), on_onnx.predict(image)
    assert np.abs(heat - onnx_heat).max() < 1e-3 and np.abs(distances - onnx_distances).max() < 0.05
    on_torch.settings = on_onnx.settings = on_torch.settings.__class__(score_threshold=0.0)  # some boxes either way
    assert [item.box for item in on_torch.segment(image)] == [item.box for item in on_onnx.segment(image)]


def test_it_resumes_where_it_stopped_and_fine_tunes_a_trained_detector(tiny_detector, weights, tmp_path):
    from vision.training.detector import get_args_parser, main, make_model, starting_detector

    root, _, photos, instances = tiny_detector
    history = main(get_args_parser().parse_args(arguments(root, photos, instances, 3, "--resume")))
    assert [record["epoch"] for record in history] == [0, 1, 2]
    args = get_args_parser().parse_args(arguments(tmp_path, photos, instances, 1, "--init", "tiny"))
    started = make_model(args, starting_detector(args, "cpu")).state_dict()
    trained = load_segmenter("tiny").model.state_dict()
    assert all(torch.equal(started[name], trained[name]) for name in trained)


def test_a_fine_tuning_keeps_the_encoder_and_input_size_of_the_detector_it_continues(tiny_detector, weights):
    from vision.training.detector import get_args_parser, starting_detector

    _, _, photos, instances = tiny_detector
    minimal = ["--instances", str(instances), "--photos", str(photos), "--name", "more", "--init", "tiny"]
    args = get_args_parser().parse_args(minimal)
    starting_detector(args, "cpu")
    assert (args.encoder, args.input_size) == ("efficientnet_lite0", 128)  # not the defaults' 256
    args = get_args_parser().parse_args([*minimal, "--input-size", "160"])
    starting_detector(args, "cpu")
    assert args.input_size == 160  # a resolution of its own, where asked
    args = get_args_parser().parse_args([*minimal, "--encoder", "efficientnet_lite1"])
    with pytest.raises(SystemExit, match="is built on efficientnet_lite0: it cannot go on as --encoder"):
        starting_detector(args, "cpu")


def test_a_fine_tuned_detectors_threshold_gains_most_in_the_weaker_of_recall_and_precision():
    from vision.training.detector import best_threshold

    figures = {0.3: {"item_recall": 0.92, "item_precision": 0.80, "item_f1": 0.856},
               0.4: {"item_recall": 0.90, "item_precision": 0.88, "item_f1": 0.890},
               0.5: {"item_recall": 0.87, "item_precision": 0.92, "item_f1": 0.894}}
    assert best_threshold(figures) == 0.5
    started = {"item_recall": 0.88, "item_precision": 0.87}
    assert best_threshold(figures, started) == 0.4  # 0.5 would lose recall
    assert best_threshold(figures, {"item_recall": 0.95, "item_precision": 0.95}) == 0.4  # none is: the least loss
    # Breakfast's tuning part at 0.40 and 0.45 (0.45 had the best F1 of those no worse, its recall up a
    # hair only), and a threshold between them (made up) that gains in both.
    breakfast = {0.40: {"item_recall": 0.9412, "item_precision": 0.9143, "item_f1": 0.9275},
                 0.42: {"item_recall": 0.9300, "item_precision": 0.9250, "item_f1": 0.9275},
                 0.45: {"item_recall": 0.9034, "item_precision": 0.9389, "item_f1": 0.9208}}
    assert best_threshold(breakfast, {"item_recall": 0.8992, "item_precision": 0.9145}) == 0.42


def test_a_fine_tuning_is_blended_with_its_start_where_that_gains_in_both_and_is_its_start_where_none_does():
    from vision.training.detector import best_blend

    started = {"item_recall": 0.877, "item_precision": 0.9068, "item_f1": 0.8917}
    # Baking's tuning part (fine-tuned: 0.30 and 0.35 as measured), and blends (made up).
    figures = {1.0: {0.30: {"item_recall": 0.9098, "item_precision": 0.8605, "item_f1": 0.8845},
                     0.35: {"item_recall": 0.8770, "item_precision": 0.9145, "item_f1": 0.8954}},
               0.75: {0.35: {"item_recall": 0.9016, "item_precision": 0.9091, "item_f1": 0.9053}},
               0.5: {0.35: {"item_recall": 0.8852, "item_precision": 0.9153, "item_f1": 0.9000}},
               0.0: {0.39: started}}
    # 0.75 has the better F1, its precision up only 0.2 points; 0.5 gains more in the weaker of the two.
    assert best_blend(figures, started, 0.39) == (0.5, 0.35)
    figures[0.25] = figures[0.5]
    assert best_blend(figures, started, 0.39) == (0.25, 0.35)  # of two alike, the nearer the start
    del figures[0.75], figures[0.5], figures[0.25]
    # 1.0 at 0.35 gains in precision only, holding the start's recall: the start as it was.
    assert best_blend(figures, started, 0.39) == (0.0, 0.39)


def test_a_blend_lies_between_the_start_and_the_fine_tuned_weights():
    from vision.training.detector import blended

    start = {"weight": torch.zeros(3), "running_var": torch.ones(2, dtype=torch.float16),
             "num_batches_tracked": torch.tensor(5)}
    tuned = {"weight": torch.full((3,), 2.0), "running_var": torch.full((2,), 3.0, dtype=torch.float16),
             "num_batches_tracked": torch.tensor(9)}
    half = blended(start, tuned, 0.5)
    assert half["weight"].tolist() == [1.0] * 3 and half["running_var"].tolist() == [2.0] * 2
    assert half["running_var"].dtype == torch.float16  # each tensor keeps its type
    assert half["num_batches_tracked"] == 9  # a count, not blended
    assert all(torch.equal(blended(start, tuned, 0.0)[name], start[name]) for name in ("weight", "running_var"))
    assert all(torch.equal(blended(start, tuned, 1.0)[name], tuned[name]) for name in tuned)


def test_it_refuses_to_fine_tune_a_unet_as_a_detector():
    from vision.training.detector import get_args_parser, starting_detector

    args = get_args_parser().parse_args(["--instances", "i.json", "--photos", "p", "--name", "n",
                                         "--init", "unet_lite0_real"])
    with pytest.raises(SystemExit, match="is a UNet segmenter, not a product detector"):
        starting_detector(args, "cpu")
