import io
import os

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Category, ReferenceImage
from vision.index import read_manifest

pytestmark = pytest.mark.django_db


def test_it_trains_on_the_catalogue_and_switches_the_index_to_it(imported_catalogue, settings, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    out = io.StringIO()
    options = f"--batch-size 8 --projection-dim 32 --workers 0 --output-dir {tmp_path / 'training'}"
    call_command("train_embedder", "shop", "--rebuild-index", "--epochs", "1", f"--options={options}", stdout=out)
    assert "Trained 'shop' for 1 epochs" in out.getvalue() and "The index now uses it." in out.getvalue()
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["backbone"] == "shop" and manifest["count"] == 24 and manifest["dimension"] == 32
    assert 0 < manifest["trained_rows"] < 24  # a fifth of the references held out, to calibrate on


def test_it_refuses_an_empty_catalogue():
    with pytest.raises(CommandError, match="no reference images yet"):
        call_command("train_embedder", "shop")


def test_it_refuses_a_run_of_no_epoch(settings):
    # Not trained for the script's default instead: 0 is a number of epochs asked for.
    with pytest.raises(CommandError, match="--epochs: must be a whole number of epochs, at least 1"):
        call_command("train_embedder", "shop", "--epochs", "0")
    assert not os.path.exists(settings.CATALOG_INDEX_PATH)


def test_it_refuses_an_option_the_training_script_does_not_know(settings):
    category = Category.objects.get_or_create_path(["Fruit", "Banana"])
    ReferenceImage.objects.create(category=category, source=ReferenceImage.Source.IMPORT, source_key="banana.jpg")
    with pytest.raises(CommandError, match="--options: .*--no-such-option"):
        call_command("train_embedder", "shop", "--options=--epochs 1 --no-such-option")
    assert not os.path.exists(settings.CATALOG_INDEX_PATH)

