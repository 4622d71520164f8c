"""manage.py train_detector: the shipped detector fine-tuned on a catalogue's boxed photos, then
measured against it on the catalogue's own held-out ones."""

import io
import json
import shutil

import pytest
import torch
from django.core.management import CommandError, call_command

from tests.photos import copy_boxed_freiburg
from vision.training.common import half_precision
from vision.training.detector import SHARES, best_blend, blended
from vision.unet import load_segmenter, segmenter_path


def test_it_fine_tunes_the_shipped_detector_and_compares_them_on_held_out_photos(tmp_path, monkeypatch):
    (tmp_path / "weights" / "segmenters").mkdir(parents=True)  # the adapted detector saved apart from the shipped
    shutil.copy(segmenter_path("detector_lite0"), tmp_path / "weights" / "segmenters")
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    photos, instances, _ = copy_boxed_freiburg(tmp_path, per_product=12, boxed=12)
    out = io.StringIO()
    options = f"--batch-size 4 --max-steps 2 --composites 4 --workers 0 --output-dir {tmp_path / 'training'}"
    call_command("train_detector", "shop_boxes", "--instances", str(instances), "--epochs", "1",
                 f"--options={options}", "--json", str(tmp_path / "figures.json"), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("On the ") and "boxed photos held out of training" in lines[0]
    assert "detector_lite0: item recall" in lines[1] and "shop_boxes: item recall" in lines[2]
    log = [json.loads(line) for line in (tmp_path / "training" / "log.jsonl").read_text().splitlines()]
    epoch, [blend] = log[-2], log[-1].values()
    assert {"item_recall", "item_precision", "n_products"} <= set(epoch["tuning_before"])  # the threshold's floor
    # The blend with the start and the threshold, chosen together on the tuning part: the best of each
    # share's best, share 0 the start at its own threshold.
    start = load_segmenter("detector_lite0")
    assert set(blend["shares"]) == {str(share) for share in SHARES}
    assert blend["shares"]["0.0"] == {"threshold": start.settings.score_threshold} | epoch["tuning_before"]
    each = {float(share): {one["threshold"]: one} for share, one in blend["shares"].items()}
    assert (blend["share"], blend["threshold"]) == best_blend(each, epoch["tuning_before"],
                                                              start.settings.score_threshold)
    # What is saved is that blend of the start's weights and the fine-tuned network's (the last epoch's
    # checkpoint), at that threshold.
    saved = torch.load(segmenter_path("shop_boxes"), weights_only=True)
    tuned = torch.load(tmp_path / "training" / "checkpoint.pt", weights_only=True)["model"]
    expected = half_precision(blended(start.model.state_dict(), tuned, blend["share"]))
    assert all(torch.equal(saved["state_dict"][name], expected[name]) for name in expected)
    assert saved["score_threshold"] == blend["threshold"]
    assert load_segmenter("shop_boxes").settings.score_threshold == blend["threshold"]
    serve = "CATALOG_SEGMENTER=shop_boxes" in lines[3]
    assert serve or "keep serving 'detector_lite0'" in lines[3]  # either verdict (the unit tests below: each)
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert set(figures) == {"held_out_photos", "share", "detector_lite0", "shop_boxes"}
    assert figures["held_out_photos"] > 0 and figures["share"] == blend["share"]
    shop = figures["shop_boxes"]
    assert f"item recall {shop['item_recall']:.3f} ({shop['n_predicted'] - shop['unmatched_items']} of " \
           f"{shop['n_products']} products)" in lines[2]
    assert f"({shop['unmatched_items']} of {shop['n_predicted']} boxes on no product)" in lines[2]
    # bench.detector_blends measures each share on the held-out photos from the run's checkpoint and log.
    from bench.detector_blends import get_args_parser, main

    main(get_args_parser().parse_args(["--name", "shop_boxes", "--init", "detector_lite0", "--instances",
                                       str(instances), "--photos", str(photos), "--output-dir",
                                       str(tmp_path / "training"), "--json", str(tmp_path / "blends.json")]))
    blends = json.loads((tmp_path / "blends.json").read_text())
    assert set(blends["rows"]) == set(blend["shares"]) and blends["chosen"] == [blend["share"], blend["threshold"]]
    assert blends["rows"]["0.0"]["held_out"] == figures["detector_lite0"]  # share 0 is the start
    assert blends["rows"][str(blend["share"])]["held_out"] == shop  # the saved detector, blended again


def test_the_verdict_keeps_the_start_served_unless_the_blend_is_no_worse_on_the_held_out_photos():
    from worker.management.commands.train_detector import verdict

    start = {"n_products": 162, "n_predicted": 145, "unmatched_items": 13}
    better = {"n_products": 162, "n_predicted": 147, "unmatched_items": 12}
    more_on_none = {"n_products": 162, "n_predicted": 150, "unmatched_items": 15}  # 135 found, 10 % on none
    blend = {"share": 0.75, "threshold": 0.38}
    serve, text = verdict("baking", "base", blend, start, better)
    assert serve and "serve it with CATALOG_SEGMENTER=baking" in text
    assert "('baking': 75% the fine-tuned network, 25% 'base', at threshold 0.38)" in text
    assert "('baking': the fine-tuned network, at threshold 0.38)" in verdict("baking", "base", blend | {"share": 1.0},
                                                                               start, better)[1]
    serve, text = verdict("baking", "base", blend, start, more_on_none)
    assert not serve and "puts a larger share of its boxes on no product than 'base': keep serving 'base'" in text
    serve, text = verdict("baking", "base", {"share": 0.0, "threshold": 0.39}, start, start)
    assert not serve and "'baking' was saved as a copy of 'base': keep serving 'base'" in text


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
