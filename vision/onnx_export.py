"""Writing a model for ONNX Runtime (vision.onnx_runtime serves it): a backbone's trunk with the
embedding computed in the graph, or a segmenter's UNet. Training writes one beside every weights
file it saves, and vision/training/export_onnx.py writes the shipped ones; needs PyTorch and onnx.
"""

import json
import os
import tempfile

import numpy as np
import torch
from torch import nn

from .backbones import get_backbone
from .catalogue import scan_catalogue
from .detect import Detector
from .embedder import pool_embeddings
from .files import replaced_atomically
from .images import load_image
from .model_weights import INT8_SUFFIX, INT8_VERSION_SUFFIX
from .unet import load_segmenter

OPSET = 17


class _Exported(nn.Module):
    """The backbone with the embedding computed in the graph, as Embedder computes it."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, images):
        feature_map = self.backbone(images)
        return feature_map, pool_embeddings(feature_map)


def export(name, path, opset=OPSET):
    """Write backbone `name` to `path` as ONNX with its metadata; returns the path."""
    backbone = get_backbone(name).eval()
    weights = backbone.weights
    return _write(_Exported(backbone), weights.crop_size, path, ["feature_map", "embedding"], opset, {
        "name": weights.name, "version": weights.version, "feature_dim": str(weights.feature_dim),
        "resize_size": str(weights.resize_size), "crop_size": str(weights.crop_size),
        "mean": json.dumps(list(weights.mean)), "std": json.dumps(list(weights.std)),
        "source": weights.source, "meta": json.dumps(weights.meta),
        "trained_on": json.dumps(sorted(weights.trained_on)),
    })


def export_segmenter(name, path, opset=OPSET):
    """Write the trained segmenter `name` (vision/weights/segmenters) to `path`: a UNet's two maps'
    logits at its input size ("logits": B×2×S×S), or a detector's maps ("maps": B×5×S/8×S/8,
    vision.detect), from squeezed photos ("images": B×3×S×S)."""
    segmenter = load_segmenter(name, device="cpu")
    props = {"name": name, "version": segmenter.version, "input_size": str(segmenter.input_size)}
    if isinstance(segmenter, Detector):  # the file holds the detector's network, not the UNet beside it
        return _write(segmenter.model, segmenter.input_size, path, ["maps"], opset, props | {
            "version": segmenter.network_version, "kind": "detector",
            "score_threshold": str(segmenter.settings.score_threshold),
            "trained_on": json.dumps(sorted(segmenter.trained_on))})
    return _write(segmenter.model, segmenter.input_size, path, ["logits"], opset, props)


def quantize(path, out_path, images, keep_float=()):
    """Write the model at `path` (an embedder, or a segmenter: export_segmenter) quantized to int8
    to `out_path`: ONNX Runtime's static quantization (QDQ; weights per channel in 7 bits, activations
    calibrated on `images`, RGB PIL photos, each prepared as the model's input is), named NAME_int8
    and versioned apart; the nodes whose names start with one of `keep_float` stay in float32.
    Returns the path."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .onnx_runtime import session

    float_model = session(path, threads=1)
    props = dict(float_model.get_modelmeta().custom_metadata_map)
    model_input = _model_input(float_model, props)

    class Photos(CalibrationDataReader):
        def __init__(self):
            self._batches = (model_input(image) for image in images)

        def get_next(self):
            batch = next(self._batches, None)
            return None if batch is None else {"images": batch}

    with tempfile.TemporaryDirectory() as scratch:
        prepared, quantized = os.path.join(scratch, "prepared.onnx"), os.path.join(scratch, "quantized.onnx")
        quant_pre_process(path, prepared)  # shapes inferred, the float16 weights' casts folded
        kept = [node.name for node in onnx.load(prepared).graph.node if node.name.startswith(tuple(keep_float))]
        # Weights in 7 bits (reduce_range): x86 CPUs without VNNI (AMD before Zen 4, Intel before
        # Cascade Lake) multiply-add uint8 x int8 pairs into int16, which 8-bit weights overflow:
        # there the file embedded photos at cosine 0.89 to the float model's. In 7 bits no pair sum
        # saturates, so every CPU computes the same integers.
        quantize_static(prepared, quantized, Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=kept)
        model = onnx.load(quantized)
    how = f"int8: ONNX Runtime static quantization, calibrated on {len(images)} photos" + (
        f"; kept in float: {', '.join(keep_float)}" if keep_float else "")
    onnx.helper.set_model_props(model, props | {
        "name": props["name"] + INT8_SUFFIX, "version": props["version"] + INT8_VERSION_SUFFIX,
        "source": f"{props['source']} ({how})" if props.get("source") else how})
    return _saved_atomically(model, out_path)


def calibration_photos(tree, count=128):
    """`count` photos spread over the reference tree at `tree` (RGB PIL), to calibrate quantize on."""
    images = scan_catalogue(tree)
    return [load_image(images[i].path) for i in np.linspace(0, len(images) - 1, min(count, len(images))).astype(int)]


def _model_input(float_model, props):
    """photo -> the (1, 3, S, S) batch the model at hand takes: a segmenter's squeezed photo (it
    records its input size), an embedder's preprocessed crop."""
    from .onnx_runtime import OnnxWeights, preprocess, squeezed

    if "input_size" in props:
        side = int(props["input_size"])
        return lambda image: squeezed(image, side)[None]
    weights = OnnxWeights.of_session(float_model)
    return lambda image: preprocess([image], weights)


def _write(module, side, path, outputs, opset, props):
    """Export `module` (images of side × side in, `outputs` out, any batch), then write `props` and
    the opset in the file's metadata, check it, and put it at `path` (_saved_atomically)."""
    import onnx

    with tempfile.TemporaryDirectory() as scratch:
        exported = os.path.join(scratch, "exported.onnx")
        with torch.inference_mode():
            torch.onnx.export(module.eval(), (torch.zeros(2, 3, side, side),), exported, input_names=["images"],
                              output_names=outputs, opset_version=opset, dynamo=False, do_constant_folding=False,
                              dynamic_axes={name: {0: "batch"} for name in ["images", *outputs]})
        model = _weights_stored_in_half(onnx.load(exported))
    onnx.helper.set_model_props(model, props | {"opset": str(opset)})
    onnx.checker.check_model(model)
    return _saved_atomically(model, path)


def _saved_atomically(model, path):
    """Save the ONNX `model` to `path` by one rename: a worker that loads the file meanwhile (it
    reloads it when the file changes) finds the old one or the new one, whole."""
    with replaced_atomically(path) as handle:
        handle.write(model.SerializeToString())
    return path


def _weights_stored_in_half(model):
    """The model with each weight tensor that float16 holds exactly (trained weights are saved in
    float16: vision.training.common.half_precision) stored so, cast back to float32 in the graph:
    a smaller file, and the same numbers. ONNX Runtime folds the casts when it loads the file, so
    it still runs in float32. ImageNet's float32 weights stay as they are (in float16 the feature
    maps moved by 2 %)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    kept, casts = [], []
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor) if tensor.data_type == TensorProto.FLOAT else None
        if values is None or values.size < 16 or not (values.astype("float16").astype("float32") == values).all():
            kept.append(tensor)
            continue
        half = numpy_helper.from_array(values.astype("float16"), f"{tensor.name}.half")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [tensor.name], to=TensorProto.FLOAT,
                                      name=f"{tensor.name}.cast"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model
