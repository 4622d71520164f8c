"""The training task takes its options as TrainingOptions fields (a message holds no dataclass)."""

import pytest
import torch

from vision.index import read_manifest
from worker.tasks import train_embedder_on_references
from worker.training import HOLDOUT_FRACTION

pytestmark = pytest.mark.django_db


def test_it_trains_with_the_options_it_is_sent(imported_catalogue, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    # No holdout_fraction sent: the command's default, so that the index has references to calibrate on.
    options = {"epochs": 1, "batch_size": 8, "projection_dim": 16, "workers": 0,
               "output_dir": str(tmp_path / "training")}
    history = train_embedder_on_references.apply(("shop",), {"options": options, "rebuild": True}).get()
    assert len(history) == 1 and (tmp_path / "weights" / "shop.pt").exists()
    saved = torch.load(tmp_path / "weights" / "shop.pt", weights_only=False)
    assert saved["holdout"]["fraction"] == HOLDOUT_FRACTION == 0.2
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["backbone"] == "shop" and manifest["dimension"] == 16


def test_it_refuses_a_run_of_no_epoch_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    with pytest.raises(ValueError, match="epochs: must be a whole number of epochs, at least 1 \\(not 0\\)"):
        train_embedder_on_references.apply(("shop",), {"options": {"epochs": 0}}).get()
    assert not (tmp_path / "weights").exists()
