"""TrainingOptions: one field per option of the training command but --data, with its defaults."""

import argparse
import importlib
from dataclasses import fields

import pytest

from vision.training.embedder import TrainingOptions, add_training_arguments, options_from
from vision.training.train_embedder import get_args_parser


def test_options_parsed_with_only_a_name_are_the_defaults():
    parser = add_training_arguments(argparse.ArgumentParser())
    assert options_from(parser.parse_args(["--name", "tiny"])) == TrainingOptions(name="tiny")


def test_every_option_of_the_command_but_data_is_a_field():
    parsed = get_args_parser().parse_args(["--data", "photos", "--name", "tiny", "--extra", "more", "--resume"])
    assert set(vars(parsed)) - {field.name for field in fields(TrainingOptions)} == {"data"}
    options = options_from(parsed)
    assert (options.extra, options.resume) == (["more"], True)


@pytest.mark.parametrize("script", ["vision.training.train_embedder", "vision.training.detector",
                                    "vision.training.train_segmenter"])
@pytest.mark.parametrize("epochs", ["0", "-2", "two"])
def test_a_run_of_no_epoch_is_refused_with_the_reason(script, epochs, capsys):
    parser = importlib.import_module(script).get_args_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", epochs])
    assert f"--epochs: must be a whole number of epochs, at least 1 (not '{epochs}')" in capsys.readouterr().err


@pytest.mark.parametrize("script", ["vision.training.train_embedder", "vision.training.detector",
                                    "vision.training.train_segmenter"])
def test_validation_every_0_epochs_is_refused_as_the_command_line_is_read(script, capsys):
    """It divided by zero after the first epoch's training."""
    parser = importlib.import_module(script).get_args_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--eval-every", "0"])
    assert "--eval-every: must be a whole number of epochs, at least 1 (not '0')" in capsys.readouterr().err
    with pytest.raises(ValueError, match="eval_every: must be a whole number of epochs"):
        TrainingOptions(name="tiny", eval_every=0)  # the training task's options too


@pytest.mark.parametrize("script", ["vision.training.detector", "vision.training.train_segmenter"])
def test_negative_composites_are_refused_and_none_are_allowed(script, capsys):
    parser = importlib.import_module(script).get_args_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--composites", "-5"])
    assert "--composites: must be a whole number, at least 0 (not '-5')" in capsys.readouterr().err
    required = {"vision.training.detector": ["--instances", "i.json", "--photos", "p"]}.get(script, [])
    assert parser.parse_args([*required, "--name", "n", "--composites", "0"]).composites == 0


@pytest.mark.parametrize("value, refused", [("0", False), ("0.2", False), ("1", True), ("-0.1", True)])
def test_the_training_holdout_fraction_is_none_or_a_fraction(value, refused, capsys):
    parser = add_training_arguments(argparse.ArgumentParser())
    if refused:
        with pytest.raises(SystemExit):
            parser.parse_args(["--name", "tiny", "--holdout-fraction", value])
        assert "--holdout-fraction: must be between 0 and 1" in capsys.readouterr().err
    else:
        assert parser.parse_args(["--name", "tiny", "--holdout-fraction", value]).holdout_fraction == float(value)


@pytest.mark.parametrize("count, trained", [(0, 0), (3, 3), (16, 16), (17, 16), (-1, 16)])
def test_train_blocks_beyond_the_encoder_train_all_of_it_as_minus_one_does(count, trained):
    """17 of 16 blocks wrapped around to the last one alone."""
    from types import SimpleNamespace

    from vision.training.common import trained_blocks

    blocks = list(range(16))
    model = SimpleNamespace(encoder=SimpleNamespace(trunk=SimpleNamespace(_blocks=blocks)))
    assert trained_blocks(model, count) == blocks[16 - trained:]


def test_fewer_training_images_than_one_batch_are_refused_not_saved_as_trained():
    """The loader drops the partial batch: no step would run, and the untrained weights be saved."""
    import torch
    from torch.utils.data import DataLoader

    from vision.training.common import optimise_epoch

    loader = DataLoader(torch.zeros(5, 3), batch_size=8, drop_last=True)
    with pytest.raises(SystemExit, match="5 training images: fewer than one batch of 8; lower --batch-size"):
        optimise_epoch(loader, None, None, None, 0)


def test_a_missing_init_is_refused_before_the_held_out_occasions_are_found(tmp_path, monkeypatch):
    """Finding the occasions embeds every photo: an hour on a large tree, for a typo."""
    from vision.catalogue import CatalogueImage
    from vision.training import embedder

    def never(*_, **__):
        raise AssertionError("the occasions were found first")

    monkeypatch.setattr(embedder, "photo_occasions", never)
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    options = TrainingOptions(name="tiny", holdout_fraction=0.25, init=str(tmp_path / "nowhere.pt"),
                              output_dir=str(tmp_path / "training"))
    with pytest.raises(SystemExit, match="--init .*nowhere.pt: there is no weights file"):
        embedder.train([CatalogueImage(str(tmp_path / "a.jpg"), ("Fruit",))], options)
    content_keys = TrainingOptions(name="tiny", holdout_fraction=0.25, content_keys=str(tmp_path / "keys.json"),
                                   output_dir=str(tmp_path / "training"))
    with pytest.raises(SystemExit, match="--content-keys names copies' originals"):
        embedder.train([CatalogueImage(str(tmp_path / "a.jpg"), ("Fruit",))], content_keys)
