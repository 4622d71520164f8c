import shutil

import torch

from vision.unet import load_segmenter, segmenter_path


def test_it_saves_a_loadable_versioned_segmenter(tiny_segmenter):
    name, _ = tiny_segmenter
    segmenter = load_segmenter(name)
    assert segmenter.version.startswith("tiny-") and len(segmenter.version) == len("tiny-") + 12
    assert segmenter.input_size == 128


def test_it_ships_only_what_training_changed(tiny_segmenter):
    stored = torch.load(segmenter_path(tiny_segmenter[0]), weights_only=True)
    keys = stored["state_dict"].keys()
    assert any(k.startswith("decoder.") for k in keys) and any(k.startswith("encoder.trunk._blocks.15.") for k in keys)
    assert not any(k.startswith("encoder.trunk._conv_stem.") for k in keys)
    assert all(v.dtype == torch.float16 for v in stored["state_dict"].values() if v.is_floating_point())


def test_it_logs_the_validation_figures_of_each_evaluated_epoch(tiny_segmenter):
    _, history = tiny_segmenter
    assert [record["epoch"] for record in history] == [0, 1]
    for record in history:
        assert record["loss"] > 0
        assert set(record["val"]) == {"mean_iou", "f_measure", "item_precision", "item_recall", "touching_split_rate"}


def test_it_resumes_where_it_stopped(tiny_segmenter_files, tmp_path, monkeypatch):
    from vision.training.train_segmenter import get_args_parser, main

    shutil.copytree(tiny_segmenter_files[0] / "training", tmp_path / "training")
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    history = main(get_args_parser().parse_args([
        "--name", "tiny", "--epochs", "3", "--eval-every", "5", "--limit", "10", "--composites", "8",
        "--val-composites", "2", "--batch-size", "4", "--input-size", "128", "--max-steps", "2",
        "--workers", "0", "--output-dir", str(tmp_path / "training"), "--resume",
    ]))
    assert [record["epoch"] for record in history] == [0, 1, 2]


def test_training_can_start_from_a_trained_segmenter(tiny_segmenter):
    from vision.training.train_segmenter import get_args_parser, make_model, starting_segmenter

    args = get_args_parser().parse_args(["--name", "more", "--init", "tiny"])
    started = make_model(args, starting_segmenter(args)).state_dict()
    trained = load_segmenter("tiny").model.state_dict()
    assert all(torch.equal(started[name], trained[name]) for name in trained)
    assert (args.encoder, args.input_size) == ("efficientnet_lite0", 128)  # its own, not the defaults' 256


def test_boxed_products_become_instance_labels_the_smaller_in_front():
    from vision.coco import Product
    from vision.training.train_segmenter import box_labels

    shelf, pack = Product((10, 10, 90, 60), ("Pantry", "Beans")), Product((70.4, 20, 120, 50), ("Pantry", "Beans"))
    labels = box_labels([pack, shelf], (128, 64))
    assert labels.shape == (64, 128) and labels[0, 0] == 0 and labels[59, 89] != 0 and labels[60, 90] == 0
    assert labels[30, 80] == labels[30, 110] != labels[30, 20] != 0  # the pack, in front of the shelf's box
