"""vision.files.replaced_atomically: a file is replaced whole or not at all."""

import os

import pytest
import torch

from vision.files import replaced_atomically
from vision.training.common import save_atomically


def test_the_new_contents_replace_the_old(tmp_path):
    path = tmp_path / "weights.pt"
    path.write_bytes(b"old")
    with replaced_atomically(path) as handle:
        handle.write(b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["weights.pt"]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "weights.pt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), replaced_atomically(path) as handle:
        handle.write(b"half")
        raise RuntimeError("the disk filled")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["weights.pt"]


def test_two_writers_of_one_file_never_share_a_temporary(tmp_path):
    path = tmp_path / "checkpoint.pt"
    with replaced_atomically(path) as first, replaced_atomically(path) as second:
        assert first.name != second.name
        first.write(b"first")
        second.write(b"second")
    assert path.read_bytes() == b"first"  # the last to finish wins, whole


def test_a_checkpoint_save_that_fails_leaves_the_last_one_and_no_temporary(tmp_path):
    save_atomically({"epoch": 3}, str(tmp_path / "last.pt"))
    with pytest.raises(Exception):
        save_atomically({"epoch": 4, "unpicklable": lambda: None}, str(tmp_path / "last.pt"))
    assert os.listdir(tmp_path) == ["last.pt"] and torch.load(tmp_path / "last.pt")["epoch"] == 3
