"""manage.py train_detector: the shipped detector fine-tuned on a catalogue's boxed photos, then
measured against it on the catalogue's own held-out ones."""

import io
import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from tests.photos import copy_boxed_freiburg
from vision.unet import load_segmenter, segmenter_path


def test_it_fine_tunes_the_shipped_detector_and_compares_them_on_held_out_photos(tmp_path, monkeypatch):
    (tmp_path / "weights" / "segmenters").mkdir(parents=True)  # the adapted detector saved apart from the shipped
    shutil.copy(segmenter_path("detector_lite0"), tmp_path / "weights" / "segmenters")
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    _, instances, _ = copy_boxed_freiburg(tmp_path, per_product=12, boxed=12)
    out = io.StringIO()
    options = f"--batch-size 4 --max-steps 2 --composites 4 --workers 0 --output-dir {tmp_path / 'training'}"
    call_command("train_detector", "shop_boxes", "--instances", str(instances), "--epochs", "1",
                 f"--options={options}", "--json", str(tmp_path / "figures.json"), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("On the ") and "boxed photos held out of training" in lines[0]
    assert "detector_lite0: item recall" in lines[1] and "shop_boxes: item recall" in lines[2]
    # Either verdict, what the adapted one does worse named where the start is kept.
    assert "CATALOG_SEGMENTER=shop_boxes" in lines[3] or (
        "keep serving 'detector_lite0'" in lines[3] and "than 'detector_lite0'" in lines[3])
    assert load_segmenter("shop_boxes").finds_instances
    [last] = [json.loads(line) for line in (tmp_path / "training" / "log.jsonl").read_text().splitlines()][-1:]
    assert {"item_recall", "item_precision", "n_products"} <= set(last["tuning_before"])  # the threshold's floor
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert set(figures) == {"held_out_photos", "detector_lite0", "shop_boxes"} and figures["held_out_photos"] > 0
    shop = figures["shop_boxes"]
    assert f"item recall {shop['item_recall']:.3f} ({shop['n_predicted'] - shop['unmatched_items']} of " \
           f"{shop['n_products']} products)" in lines[2]
    assert f"({shop['unmatched_items']} of {shop['n_predicted']} boxes on no product)" in lines[2]


def test_it_refuses_what_it_cannot_train_on(tmp_path):
    (tmp_path / "instances.json").write_text('{"images": [], "annotations": [], "categories": []}')
    with pytest.raises(CommandError, match="0 readable photos with boxes"):
        call_command("train_detector", "shop_boxes", "--instances", str(tmp_path / "instances.json"))
    with pytest.raises(CommandError, match="name of its own"):
        call_command("train_detector", "detector_lite0", "--instances", str(tmp_path / "instances.json"))
    with pytest.raises(CommandError, match="--options"):
        call_command("train_detector", "shop_boxes", "--instances", str(tmp_path / "instances.json"),
                     "--options=--no-such-option")
    with pytest.raises(CommandError, match="--epochs: must be a whole number of epochs, at least 1"):
        call_command("train_detector", "shop_boxes", "--instances", str(tmp_path / "instances.json"), "--epochs", "0")
