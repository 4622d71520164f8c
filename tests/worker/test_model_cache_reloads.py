"""The worker's model cache loads a model anew when its file (or an ensemble member's) is replaced,
and lets the replaced one go."""

import json
import os
import shutil

from vision.onnx_runtime import onnx_path
from vision.runtimes import served_unet
from worker.models_cache import ModelCache


def test_an_ensemble_is_loaded_anew_when_its_file_or_a_member_changes(tiny_embedder, tmp_path, settings):
    settings.CATALOG_RUNTIME = "torch"  # on ONNX Runtime the one file is the ensemble's .onnx
    spec = tmp_path / "weights" / "pair.json"
    spec.write_text(json.dumps({"members": ["tiny", "efficientnet_lite0"]}))
    cache = ModelCache()
    first = cache.embedder("pair")
    assert cache.embedder("pair") is first
    spec.write_text(json.dumps({"members": ["tiny", "efficientnet_lite0"], "weights": [1, 2]}))
    second = cache.embedder("pair")
    assert second.weights.version != first.weights.version
    member = tmp_path / "weights" / "tiny.pt"
    os.replace(member, tmp_path / "weights" / "moved.pt")
    os.replace(tmp_path / "weights" / "moved.pt", member)
    os.utime(member, ns=(0, 0))
    assert cache.embedder("pair") is not second


def test_on_onnx_runtime_a_model_file_replaced_is_loaded_anew(settings, tmp_path):
    shipped = onnx_path("efficientnet_lite0")
    settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_DIR = "onnx", tmp_path
    shutil.copy(shipped, tmp_path / "efficientnet_lite0.onnx")
    cache = ModelCache()
    first = cache.embedder("efficientnet_lite0")
    assert cache.embedder("efficientnet_lite0") is first
    shutil.copy(shipped, tmp_path / "new.onnx")
    os.replace(tmp_path / "new.onnx", tmp_path / "efficientnet_lite0.onnx")  # as an export replaces it
    assert cache.embedder("efficientnet_lite0") is not first
    assert len(cache._embedders) == 1  # the replaced file's session is let go


def test_on_onnx_runtime_a_segmenter_file_replaced_is_loaded_anew(settings, tmp_path):
    name = "unet_lite0_real_int8"
    shipped = onnx_path(name)
    settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_DIR, settings.CATALOG_SEGMENTER = "onnx", tmp_path, name
    shutil.copy(shipped, tmp_path / f"{name}.onnx")
    cache = ModelCache()
    first = cache.segmenter()
    assert cache.segmenter() is first
    shutil.copy(shipped, tmp_path / "new.onnx")
    os.replace(tmp_path / "new.onnx", tmp_path / f"{name}.onnx")  # as an export replaces it
    assert cache.segmenter() is not first
    assert len(cache._segmenters) == 1


def test_on_onnx_runtime_a_detector_is_loaded_anew_when_its_foreground_unet_file_is_replaced(settings, tmp_path):
    settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_DIR, settings.CATALOG_SEGMENTER = "onnx", tmp_path, "detector_lite0"
    unet = served_unet("onnx")
    shutil.copy(onnx_path(unet), tmp_path / f"{unet}.onnx")
    cache = ModelCache()
    first = cache.segmenter()
    assert first.finds_instances and cache.segmenter() is first
    shutil.copy(onnx_path(unet), tmp_path / "new.onnx")
    os.replace(tmp_path / "new.onnx", tmp_path / f"{unet}.onnx")  # the UNet exported again, the detector not
    assert cache.segmenter() is not first
    assert len(cache._segmenters) == 1
