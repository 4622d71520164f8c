import json

import numpy as np
import pytest
from PIL import Image

from tests.photos import ECSSD
from vision.boxes import box_iou, match_boxes
from vision.evaluate_segmentation import get_args_parser, main
from vision.model_weights import INT8_VERSION_SUFFIX
from vision.segmenter_figures import mask_scores


def test_a_perfect_mask_scores_one():
    mask = np.zeros((10, 10), bool)
    mask[2:6, 2:6] = True
    assert mask_scores(mask, mask) == (1.0, 1.0)


def test_half_a_mask_scores_its_overlap():
    truth = np.zeros((10, 10), bool)
    truth[:, :4] = True
    predicted = np.zeros((10, 10), bool)
    predicted[:, :2] = True
    iou, f_measure = mask_scores(predicted, truth)
    assert iou == 0.5
    assert abs(f_measure - 1.3 * 0.5 / (0.3 + 0.5)) < 1e-9  # precision 1, recall 0.5


def test_boxes_match_one_to_one_above_half_overlap():
    truth = [(0, 0, 10, 10), (20, 0, 30, 10)]
    predicted = [(0, 0, 10, 9), (1, 0, 11, 10), (40, 40, 50, 50)]
    assert match_boxes(predicted, truth) == {0: 0}
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == 50 / 150


def test_it_scores_any_folder_pair_with_masks_in_another_format(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir(), masks.mkdir()
    for stem in ("0001", "0002", "0003"):
        Image.open(f"{ECSSD}/images/{stem}.jpg").save(images / f"{stem}.png")
        Image.open(f"{ECSSD}/masks/{stem}.png").save(masks / f"{stem}.bmp")
    output = tmp_path / "figures.json"
    main(get_args_parser().parse_args(["--images", str(images), "--masks", str(masks), "--json", str(output)]))
    figures = json.loads(output.read_text())
    assert figures["n_images"] == 3
    assert figures["segmenter"].endswith(INT8_VERSION_SUFFIX)  # by default, what the worker serves on ONNX Runtime
    assert figures["mean_iou"] > 0.7 and 0 <= figures["f_measure"] <= 1


def test_it_reports_items_and_touching_pairs_on_composites(tiny_segmenter, tmp_path):
    output = tmp_path / "figures.json"
    main(get_args_parser().parse_args(["--segmenter", "tiny", "--runtime", "torch", "--composites", "6", "--seed", "4",
                                       "--size", "160", "--json", str(output)]))
    figures = json.loads(output.read_text())
    assert figures["n_composites"] == 6 and figures["n_items"] >= 6
    for key in ("item_precision", "item_recall"):
        assert 0 <= figures[key] <= 1
    assert "touching_split_rate" in figures


def test_a_product_detector_is_refused_with_where_to_measure_it(tmp_path):
    with pytest.raises(SystemExit, match="product detector.*vision.evaluate_items"):
        main(get_args_parser().parse_args(["--segmenter", "detector_lite0", "--composites", "1"]))
