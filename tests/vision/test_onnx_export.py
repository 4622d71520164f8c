"""A backbone exported for ONNX Runtime (vision/training/export_onnx.py) embeds real photos as
PyTorch does (cosine >= 0.9999), its feature maps too, with any number of images a pass, and its
file says which weights it holds and how to preprocess for them; the exported UNet finds the same
items in real shop photos, and so, nearly, does the one quantized to int8; the shipped product
detector that serving runs finds the same products on either runtime."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.photos import FREIBURG, grocery_images
from vision.backbones import BackboneUnavailable, get_backbone
from vision.boxes import match_boxes
from vision.embedder import Embedder
from vision.images import load_image
from vision.model_weights import INT8_SUFFIX, INT8_VERSION_SUFFIX, SHIPPED_WEIGHTS_DIR
from vision.onnx_export import OPSET, export, export_segmenter, quantize
from vision.onnx_runtime import OnnxEmbedder, RuntimeUnavailable, onnx_path, session
from vision.runtimes import load_embedder as load_embedder_on_runtime
from vision.runtimes import load_segmenter as load_on_runtime
from vision.detect import OnnxDetector
from vision.segment import DEFAULT_SEGMENTER, UNET_SEGMENTER, OnnxSegmenter
from vision.unet import load_segmenter

SHIPPED_ONNX_DIR = Path(SHIPPED_WEIGHTS_DIR) / "onnx"


@pytest.fixture(scope="module")
def photos():
    paths = (grocery_images("val", "Fruit/Banana", 2) + grocery_images("val", "Packages/Juice/Bravo-Apple-Juice", 2)
             + grocery_images("val", "Vegetables/Carrots", 1))
    return [load_image(path) for path in paths]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export("efficientnet_lite0", str(tmp_path_factory.mktemp("onnx") / "efficientnet_lite0.onnx"))


def test_onnx_runtime_embeds_real_photos_as_pytorch_does(exported, photos):
    torch_side = Embedder(get_backbone("efficientnet_lite0"), device="cpu").forward(photos)
    onnx_side = OnnxEmbedder(exported, threads=1).forward(photos)
    assert (torch_side.embeddings * onnx_side.embeddings).sum(axis=1).min() >= 0.9999
    maps = torch_side.feature_maps.numpy()
    assert onnx_side.feature_maps.shape == maps.shape
    assert np.abs(onnx_side.feature_maps - maps).max() <= 0.02 * np.abs(maps).max()


@pytest.mark.parametrize("count", [1, 5])
def test_a_pass_takes_any_number_of_images(exported, photos, count):
    embedder = OnnxEmbedder(exported, batch_size=count)
    embeddings = embedder.embed(photos[:count])
    assert embeddings.shape == (count, 1280) and np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)


def test_the_file_describes_its_weights_and_preprocessing(exported):
    weights, made = OnnxEmbedder(exported).weights, get_backbone("efficientnet_lite0").weights
    assert (weights.version, weights.feature_dim, weights.resize_size, weights.crop_size) == (
        made.version, made.feature_dim, made.resize_size, made.crop_size)
    assert weights.mean == made.mean and weights.std == made.std and weights.opset == OPSET


def test_the_exported_segmenter_finds_the_same_items_in_real_photos(tmp_path):
    paths = sorted((Path(FREIBURG) / "photos").rglob("*.jpg"))[::200][:6]
    if not paths:
        pytest.skip(f"the Freiburg groceries are not at {FREIBURG}")
    path = export_segmenter(UNET_SEGMENTER, str(tmp_path / f"{UNET_SEGMENTER}.onnx"))
    on_torch, on_onnx = load_segmenter(UNET_SEGMENTER, device="cpu"), OnnxSegmenter(path, threads=1)
    for image in (load_image(photo) for photo in paths):
        (foreground, distance), (onnx_foreground, onnx_distance) = on_torch.predict(image), on_onnx.predict(image)
        assert max(np.abs(foreground - onnx_foreground).max(), np.abs(distance - onnx_distance).max()) <= 1e-3
        assert [item.box for item in on_torch.segment(image)] == [item.box for item in on_onnx.segment(image)]


@pytest.mark.parametrize("name", ["grocery", "efficientnet_lite0", "freiburg_lite0"])
def test_the_shipped_model_files_hold_the_shipped_weights(name):
    """A retrained embedder whose .onnx file was not exported again would serve its old weights."""
    shipped = OnnxEmbedder(onnx_path(name, SHIPPED_ONNX_DIR)).weights
    assert shipped.version == get_backbone(name).weights.version


def test_the_shipped_segmenter_files_hold_the_shipped_weights():
    shipped = OnnxSegmenter(onnx_path(UNET_SEGMENTER, SHIPPED_ONNX_DIR))
    assert shipped.version == load_segmenter(UNET_SEGMENTER, device="cpu").version
    assert OnnxSegmenter(onnx_path(UNET_SEGMENTER + INT8_SUFFIX, SHIPPED_ONNX_DIR)).version == (
        shipped.version + INT8_VERSION_SUFFIX)


def test_the_shipped_detector_file_holds_the_shipped_weights_and_finds_the_same_products():
    paths = sorted((Path(FREIBURG) / "photos").rglob("*.jpg"))[::400][:6]
    if not paths:
        pytest.skip(f"the Freiburg groceries are not at {FREIBURG}")
    on_torch = load_segmenter(DEFAULT_SEGMENTER, device="cpu")
    on_onnx = load_on_runtime(DEFAULT_SEGMENTER, "onnx", threads=1)
    assert isinstance(on_onnx, OnnxDetector) and on_onnx.version.removesuffix(INT8_VERSION_SUFFIX) == on_torch.version
    # Each runtime runs the UNet it serves for the foreground: quantized on ONNX Runtime. The boxes
    # are compared with the same one.
    assert on_onnx.foreground.version == on_torch.foreground.version + INT8_VERSION_SUFFIX
    on_torch.foreground = on_onnx.foreground
    assert on_onnx.settings == on_torch.settings  # the score threshold chosen in training travels with the file
    for image in (load_image(photo) for photo in paths):
        found, found_on_onnx = on_torch.segment(image), on_onnx.segment(image)
        assert len(found) == len(found_on_onnx)
        assert len(match_boxes([item.box for item in found], [item.box for item in found_on_onnx])) == len(found)


@pytest.mark.parametrize("int8_beside", [False, True])
def test_an_int8_model_of_older_weights_than_its_float_model_is_refused(tmp_path, int8_beside):
    """A segmenter retrained beside the shipped ones (VISION_WEIGHTS_DIR): its float file exported
    again, its int8 one not, so the shipped int8 file (or an older one beside it) would be found and
    serve the old weights."""
    import shutil

    if int8_beside:
        older = shutil.copy(onnx_path(UNET_SEGMENTER + INT8_SUFFIX, SHIPPED_ONNX_DIR), tmp_path)
        os.utime(older, (0, 0))
    _refused_after_retraining(UNET_SEGMENTER, tmp_path)
    assert load_on_runtime(UNET_SEGMENTER + INT8_SUFFIX).version.endswith(INT8_VERSION_SUFFIX)  # the shipped pair


def test_an_int8_model_is_a_model_of_its_own_that_embeds_nearly_the_same(exported, photos, tmp_path):
    quantized = OnnxEmbedder(quantize(exported, str(tmp_path / "efficientnet_lite0_int8.onnx"), photos), threads=1)
    float_model = OnnxEmbedder(exported, threads=1)
    assert quantized.weights.name == "efficientnet_lite0_int8"
    assert quantized.weights.version == float_model.weights.version + INT8_VERSION_SUFFIX  # an index of its own
    # Weights in 7 bits (so that every CPU computes alike) cost a little: 0.970 at least here.
    assert (quantized.embed(photos) * float_model.embed(photos)).sum(axis=1).min() >= 0.96


@pytest.mark.parametrize("name", ["grocery" + INT8_SUFFIX, UNET_SEGMENTER + INT8_SUFFIX])
def test_the_shipped_int8_weights_fit_in_7_bits_so_cpus_without_vnni_compute_the_same(name):
    """x86 CPUs without VNNI multiply-add pairs of uint8 activations and int8 weights into int16
    (vpmaddubsw): 255 x 127 x 2 overflows it, 255 x 64 x 2 does not. With 8-bit weights the shipped
    segmenter's maps agreed with the float ones on as little as 74 % of a photo there (emulated as an
    AMD EPYC Milan), on 96 % at least on a CPU with VNNI (the same photos)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(onnx_path(name, SHIPPED_ONNX_DIR)).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert len(weights) > 30
    assert max(int(np.abs(w.astype(np.int16)).max()) for w in weights) <= 64


def test_the_shipped_int8_file_is_of_the_shipped_weights():
    quantized = OnnxEmbedder(onnx_path("grocery" + INT8_SUFFIX, SHIPPED_ONNX_DIR)).weights
    assert quantized.version == get_backbone("grocery").weights.version + INT8_VERSION_SUFFIX


def test_a_segmenter_quantized_to_int8_is_a_model_of_its_own_and_keeps_in_float_what_it_is_told(photos, tmp_path):
    import onnx

    float_path = onnx_path(UNET_SEGMENTER, SHIPPED_ONNX_DIR)
    path = quantize(float_path, str(tmp_path / "segmenter_int8.onnx"), photos[:3], keep_float=("/encoder/",))
    quantized, float_model = OnnxSegmenter(path, threads=1), OnnxSegmenter(float_path, threads=1)
    assert quantized.version == float_model.version + INT8_VERSION_SUFFIX
    assert quantized.input_size == float_model.input_size
    foreground, _ = quantized.predict(photos[3])
    assert foreground.shape == float_model.predict(photos[3])[0].shape
    graph = onnx.load(path).graph
    dequantized = {output for node in graph.node if node.op_type == "DequantizeLinear" for output in node.output}
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    int8 = {node.name.startswith("/encoder/") for node in convolutions if node.input[1] in dequantized}
    assert int8 == {False}  # the decoder's convolutions are in int8, the encoder's are not
    assert sum(node.name.startswith("/encoder/") for node in convolutions) > 30  # still named so


def test_a_detector_quantized_to_int8_loads_with_its_foreground_unless_its_float_file_was_retrained(photos, tmp_path):
    """No int8 detector is shipped (bench/README.md: it would save 4-5 % of a photo's time), but
    export_onnx --int8 makes one; like the UNet's it is refused once the float detector beside it
    holds other weights, which it would otherwise go on serving unseen."""
    import shutil

    float_path = onnx_path(DEFAULT_SEGMENTER, SHIPPED_ONNX_DIR)
    quantize(float_path, str(tmp_path / f"{DEFAULT_SEGMENTER}{INT8_SUFFIX}.onnx"), photos[:2])
    shutil.copy(float_path, tmp_path)  # newer than the int8 file: their versions are compared, and agree
    quantized = load_on_runtime(DEFAULT_SEGMENTER + INT8_SUFFIX, onnx_dir=str(tmp_path), threads=1)
    assert isinstance(quantized, OnnxDetector) and quantized.foreground is not None
    assert quantized.network_version == OnnxDetector(float_path).version + INT8_VERSION_SUFFIX
    assert quantized.settings == OnnxDetector(float_path).settings
    _refused_after_retraining(DEFAULT_SEGMENTER, tmp_path)


def _refused_after_retraining(name, onnx_dir):
    """The shipped float file of `name` written to `onnx_dir` as if retrained (another version):
    NAME_int8 from there is refused."""
    import onnx

    retrained = onnx.load(onnx_path(name, SHIPPED_ONNX_DIR))
    onnx.helper.set_model_props(retrained, {p.key: p.value for p in retrained.metadata_props} | {
        "version": f"{name}-retrained"})
    onnx.save(retrained, str(onnx_dir / f"{name}.onnx"))
    with pytest.raises(RuntimeUnavailable, match=f"quantized from other weights than '{name}' now "
                                                 rf"holds \({name}-retrained\)"):
        load_on_runtime(name + INT8_SUFFIX, onnx_dir=str(onnx_dir))


def test_the_shipped_int8_segmenter_finds_the_float_ones_items():
    """The int8 file serving runs by default is the shipped segmenter's, and finds its items in
    real shop photos (the measured figures: bench/README.md, "ONNX Runtime against PyTorch")."""
    paths = sorted((Path(FREIBURG) / "photos").rglob("*.jpg"))[::200][:8]
    if not paths:
        pytest.skip(f"the Freiburg groceries are not at {FREIBURG}")
    float_model = OnnxSegmenter(onnx_path(UNET_SEGMENTER, SHIPPED_ONNX_DIR), threads=1)
    quantized = OnnxSegmenter(onnx_path(UNET_SEGMENTER + INT8_SUFFIX, SHIPPED_ONNX_DIR), threads=1)
    assert quantized.version == float_model.version + INT8_VERSION_SUFFIX
    agreement, matched, found = [], 0, 0
    for image in (load_image(photo) for photo in paths):
        agreement.append(((float_model.predict(image)[0] >= 0.5) == (quantized.predict(image)[0] >= 0.5)).mean())
        boxes = [item.box for item in float_model.segment(image)]
        matched += len(match_boxes([item.box for item in quantized.segment(image)], boxes))
        found += len(boxes)
    assert min(agreement) >= 0.95 and matched >= 0.9 * found


def test_a_missing_int8_model_says_how_to_make_it_and_pytorch_says_it_cannot_run_one(tmp_path):
    with pytest.raises(RuntimeUnavailable, match="export_onnx efficientnet_lite1 .*--int8 REFERENCE_PHOTOS_TREE"):
        session(str(tmp_path / "efficientnet_lite1_int8.onnx"))
    with pytest.raises(BackboneUnavailable, match=f"ONNX Runtime only; on PyTorch use '{UNET_SEGMENTER}'"):
        load_segmenter(UNET_SEGMENTER + INT8_SUFFIX)
    with pytest.raises(BackboneUnavailable, match=r"runs on ONNX Runtime only .*; on PyTorch use 'grocery'"):
        get_backbone("grocery" + INT8_SUFFIX)


def test_trained_weights_are_stored_in_float16_and_served_in_float32():
    import onnx

    model = onnx.load(onnx_path("grocery", SHIPPED_ONNX_DIR))
    halves = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16}
    casts = {n.input[0] for n in model.graph.node if n.op_type == "Cast" and n.attribute[0].i == onnx.TensorProto.FLOAT}
    assert len(halves) > 50 and halves <= casts  # each one cast back to float32 as it is read


def test_a_model_file_of_other_weights_than_those_of_its_name_beside_it_is_refused(tmp_path, monkeypatch):
    """Weights saved without their model file (train_embedder --no-onnx deletes the one beside
    them): the shipped file of that name would be measured and served in their place, unseen."""
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / "freiburg_lite0.pt").write_bytes(b"retrained")  # only its hash is read
    with pytest.raises(RuntimeUnavailable, match=r"holds 'freiburg_lite0' as freiburg_lite0-\w+, not the weights "
                                                 r"of that name .*`python -m vision.training.export_onnx "
                                                 + re.escape(f"freiburg_lite0 --out-dir {tmp_path / 'onnx'}`")):
        load_embedder_on_runtime("freiburg_lite0", threads=1)
    (tmp_path / "segmenters").mkdir()
    (tmp_path / "segmenters" / f"{UNET_SEGMENTER}.pt").write_bytes(b"retrained")
    with pytest.raises(RuntimeUnavailable, match=f"export_onnx --segmenters {UNET_SEGMENTER} "):
        load_on_runtime(UNET_SEGMENTER, threads=1)


def test_an_ensemble_file_is_refused_once_a_member_beside_it_is_retrained(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path))
    shutil.copy(Path(SHIPPED_WEIGHTS_DIR) / "grocery.json", tmp_path)  # its members' files are not here
    assert load_embedder_on_runtime("grocery", threads=1).weights.name == "grocery"  # the file and members agree
    (tmp_path / "grocery_all_lite1.pt").write_bytes(b"retrained")
    with pytest.raises(RuntimeUnavailable, match=r"holds 'grocery' as grocery-\w+, not the weights of that name"):
        load_embedder_on_runtime("grocery", threads=1)
