import json
import os

import pytest
import torch

from vision.backbones import get_backbone, list_backbones
from vision.content_keys import content_key
from vision.training.embedder import ProxyLoss, make_model, parameter_groups
from vision.training.train_embedder import get_args_parser, main


def training_args(small_catalogue, tmp_path, *extra):
    return get_args_parser().parse_args([
        "--data", str(small_catalogue[0]), "--name", "tiny", "--batch-size", "8", "--projection-dim", "64",
        "--workers", "0", "--output-dir", str(tmp_path / "training"), *extra,
    ])


def test_a_tiny_run_lowers_the_loss_and_ships_a_loadable_versioned_backbone(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    history = main(training_args(small_catalogue, tmp_path, "--epochs", "4"))
    assert history[-1]["loss"] < history[0]["loss"]
    assert "tiny" in list_backbones()
    backbone = get_backbone("tiny")
    assert backbone.weights.version.startswith("tiny-") and backbone.weights.feature_dim == 64
    with torch.no_grad():
        assert backbone(torch.randn(1, 3, 224, 224)).shape == (1, 64, 7, 7)
    trained = torch.load(tmp_path / "training" / "checkpoint.pt", weights_only=True)["model"]
    assert torch.allclose(backbone.trunk.projection.weight, trained["trunk.projection.weight"], atol=1e-3)


def test_it_resumes_from_its_checkpoint(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1"))
    history = main(training_args(small_catalogue, tmp_path, "--epochs", "2", "--resume"))
    assert [record["epoch"] for record in history] == [0, 1]
    log = [json.loads(line) for line in (tmp_path / "training" / "log.jsonl").read_text().splitlines()]
    assert [record["epoch"] for record in log] == [0, 1]
    # Each epoch says how long the run has left: the first of the first sitting some, the last none.
    assert log[0]["seconds_left"] >= 0 and log[1]["seconds_left"] == 0


def test_each_epoch_says_about_how_long_the_rest_will_take(small_catalogue, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    history = main(training_args(small_catalogue, tmp_path, "--epochs", "3", "--max-steps", "1"))
    # Some time left after each epoch but the last (not less each time: the first epoch's saving, its
    # ONNX export, falls in the second's time, and an estimate may then grow).
    assert history[0]["seconds_left"] > 0 and history[1]["seconds_left"] > 0 and history[2]["seconds_left"] == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if " of 3 done" in line]
    assert lines[0].startswith("epoch 1 of 3 done; about ") and lines[-1] == "epoch 3 of 3 done"


def test_a_retrained_embedder_gets_a_new_version(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1"))
    first = get_backbone("tiny").weights.version
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--seed", "1",
                       "--output-dir", str(tmp_path / "again")))
    assert get_backbone("tiny").weights.version != first


def test_it_goes_on_from_a_trained_embedder_at_a_larger_size(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--train-blocks", "2"))
    first = get_backbone("tiny")
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--train-blocks", "1", "--init", "tiny",
                       "--image-size", "256", "--serving-size", "256", "--lr", "0", "--name", "tiny_256",
                       "--output-dir", str(tmp_path / "larger")))
    larger = get_backbone("tiny_256")
    assert (larger.weights.resize_size, larger.weights.crop_size) == (256, 256)
    # With a zero backbone learning rate, the block only the first run trained is carried over as it was.
    earlier_block = "trunk._blocks.14._project_conv.weight"
    assert torch.equal(larger.trunk.state_dict()[earlier_block], first.trunk.state_dict()[earlier_block])


def test_the_trained_embedder_sees_photos_larger_than_it_trained_on(small_catalogue, tmp_path, monkeypatch):
    """Its random-resized crops showed it objects larger than a whole photo at the training side
    shows them: by default it sees photos at 9/7 of that side, to a multiple of 32."""
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--max-steps", "1"))
    served = get_backbone("tiny").weights
    assert (served.resize_size, served.crop_size) == (288, 288)
    assert "224 px, sees photos at 288 px" in served.source
    with pytest.raises(SystemExit, match="--serving-size must be from 32 to 1024"):
        main(training_args(small_catalogue, tmp_path, "--serving-size", "8", "--name", "other"))


def test_it_refuses_to_start_from_an_embedder_of_another_shape(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1"))
    with pytest.raises(SystemExit, match="64-d projection"):
        main(training_args(small_catalogue, tmp_path, "--init", "tiny", "--projection-dim", "128",
                           "--name", "other", "--output-dir", str(tmp_path / "other")))


def test_it_records_what_it_trained_on_and_holds_whole_occasions_out(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--max-steps", "1", "--holdout-fraction", "0.25",
                       "--keep", "last"))
    weights = get_backbone("tiny").weights
    photos = [str(p) for p in sorted(small_catalogue[0].rglob("*.jpg"))]
    keys = {content_key(p) for p in photos}
    held_out = keys - weights.trained_on
    assert 3 <= len(held_out) <= 9  # about a quarter, whole occasions
    assert {os.path.dirname(p) for p in photos if content_key(p) in held_out} == {os.path.dirname(p) for p in photos}
    stored = torch.load(tmp_path / "weights" / "tiny.pt", weights_only=True)
    assert stored["holdout"] == {"fraction": 0.25, "seed": 0}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_whole_network_training_lowers_the_loss_in_either_precision(small_catalogue, tmp_path, monkeypatch, precision):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    history = main(training_args(small_catalogue, tmp_path, "--epochs", "4", "--train-blocks", "-1",
                                 "--layer-decay", "0.8", "--precision", precision))
    assert history[-1]["loss"] < history[0]["loss"]
    assert "all blocks" in torch.load(tmp_path / "weights" / "tiny.pt", weights_only=True)["description"]


def test_each_earlier_stage_learns_at_the_layer_decay_times_the_next(small_catalogue, tmp_path):
    args = training_args(small_catalogue, tmp_path, "--train-blocks", "-1", "--layer-decay", "0.5")
    model = make_model(args)
    criterion = ProxyLoss(args.projection_dim, [2, 4], [0.5, 1.0], args.temperature, args.label_smoothing)
    groups = parameter_groups(model, criterion, args)
    rates = [group["lr"] for group in groups]
    assert rates[-1] == pytest.approx(args.lr * 10)  # projection and proxies
    assert rates[:-1] == pytest.approx([args.lr * 0.5 ** i for i in range(len(model.trunk.trunk._blocks))])
    grouped = [id(p) for group in groups for p in group["params"]]
    trainable = [p for p in list(model.parameters()) + list(criterion.parameters()) if p.requires_grad]
    assert sorted(grouped) == sorted(id(p) for p in trainable)


def test_short_runs_on_different_machines_add_up_from_a_committed_weights_file(small_catalogue, tmp_path, monkeypatch):
    """A run saves its weights (fp16, small enough to commit); a later run on a machine without its
    checkpoint goes on from that file, the proxies too, and the file then tells both runs apart."""
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "2", "--max-steps", "2"))
    committed = tmp_path / "repo" / "tiny.pt"
    committed.parent.mkdir()
    committed.write_bytes((tmp_path / "weights" / "tiny.pt").read_bytes())
    first = torch.load(committed, weights_only=True)
    assert all(v.dtype == torch.float16 for v in first["state_dict"].values() if v.is_floating_point())
    assert {"leaf", "2"} <= set(first["proxies"]) and len(first["proxies"]["leaf"]) == 3

    # Elsewhere, with no checkpoint: learning rate 0, so what it saves is what it started from.
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--max-steps", "1", "--init", str(committed),
                       "--lr", "0", "--output-dir", str(tmp_path / "elsewhere")))
    second = torch.load(tmp_path / "weights" / "tiny.pt", weights_only=True)
    for level, proxies in first["proxies"].items():
        assert all(torch.equal(second["proxies"][level][name], proxy) for name, proxy in proxies.items())
    learnt = {k: v for k, v in first["state_dict"].items() if "running_" not in k and "num_batches" not in k}
    assert learnt and all(torch.equal(second["state_dict"][k], v) for k, v in learnt.items())  # batch stats move
    runs = json.loads(second["runs"])
    assert [(run["init"], len(run["epochs"])) for run in runs] == [("efficientnet_lite0 (ImageNet)", 2),
                                                                    (str(committed), 1)]
    assert "3 over 2 runs" in second["description"]
    assert set(second["trained_on"]) == set(first["trained_on"])


def test_an_init_that_is_neither_a_file_nor_an_embedder_is_a_clear_error(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    with pytest.raises(SystemExit, match=r"--init .*nowhere\.pt: there is no weights file at"):
        main(training_args(small_catalogue, tmp_path, "--init", str(tmp_path / "nowhere.pt")))


def test_it_refuses_to_hold_out_photos_its_init_trained_on(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--max-steps", "1"))  # trained on all
    with pytest.raises(SystemExit, match=r"--init tiny trained on \d+ of the photos this run holds out"):
        main(training_args(small_catalogue, tmp_path, "--init", "tiny", "--holdout-fraction", "0.25",
                           "--name", "again", "--output-dir", str(tmp_path / "again")))


def test_it_refuses_to_validate_on_photos_its_init_trained_on(small_catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "1", "--max-steps", "1"))  # trained on all
    with pytest.raises(SystemExit, match=r"--init tiny trained on 24 of the --val photos"):
        main(training_args(small_catalogue, tmp_path, "--init", "tiny", "--val", str(small_catalogue[0]),
                           "--name", "again", "--output-dir", str(tmp_path / "again")))



def test_a_run_resumed_after_an_epoch_trains_as_an_uninterrupted_one(small_catalogue, tmp_path, monkeypatch):
    """The random generators go on from the checkpoint: resumed, the second epoch draws the
    shuffles and augmentations an uninterrupted run's second epoch draws, not the first's again."""
    import vision.training.embedder as embedder

    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(training_args(small_catalogue, tmp_path, "--epochs", "2", "--max-steps", "2",
                       "--output-dir", str(tmp_path / "whole")))
    save_checkpoint = embedder.save_checkpoint

    def stopped_after_it(*args):
        save_checkpoint(*args)
        raise KeyboardInterrupt  # the machine went away after the first epoch

    monkeypatch.setattr(embedder, "save_checkpoint", stopped_after_it)
    with pytest.raises(KeyboardInterrupt):
        main(training_args(small_catalogue, tmp_path, "--epochs", "2", "--max-steps", "2"))
    monkeypatch.setattr(embedder, "save_checkpoint", save_checkpoint)
    main(training_args(small_catalogue, tmp_path, "--epochs", "2", "--max-steps", "2", "--resume"))
    whole = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)["model"]
    resumed = torch.load(tmp_path / "training" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(whole[name], resumed[name]) for name in whole)
