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
