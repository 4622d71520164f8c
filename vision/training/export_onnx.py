"""Export shipped backbones for ONNX Runtime (vision.onnx_runtime): one .onnx file each.

    python -m vision.training.export_onnx NAME [NAME ...] [--segmenters NAME ...] [--out-dir DIR] [--opset 17]

NAME is any backbone get_backbone knows (grocery, grocery_lite0, efficientnet_lite0, ...; an
ensemble is exported whole, its members' maps weighted and joined as in PyTorch). The graph takes
a batch of preprocessed images of any size ("images": B×3×crop×crop) and gives the feature map
("feature_map": B×C×H×W, for the heatmaps) and the pooled, L2-normalised embedding ("embedding":
B×D). The weights' name, version, feature size, preprocessing and the opset are written in the
file's metadata. A segmenter (--segmenters) gives its two maps' logits at its input size. Files go
to vision/weights/onnx/NAME.onnx unless --out-dir says otherwise.
"""

import argparse
import json
import os

import torch
from torch import nn

from vision.backbones import get_backbone
from vision.embedder import pool_embeddings
from vision.segment import load_segmenter

DEFAULT_OUT_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "weights", "onnx")
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
    """Write the trained segmenter `name` (vision/weights/segmenters) to `path`: its two maps'
    logits at its input size ("logits": B×2×S×S) from squeezed photos ("images": B×3×S×S)."""
    segmenter = load_segmenter(name, device="cpu")
    return _write(segmenter.model, segmenter.input_size, path, ["logits"], opset, {
        "name": name, "version": segmenter.version, "input_size": str(segmenter.input_size)})


def _write(module, side, path, outputs, opset, props):
    """Export `module` (images of side × side in, `outputs` out, any batch), then write `props` and
    the opset in the file's metadata and check it."""
    import onnx

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.inference_mode():
        torch.onnx.export(module.eval(), (torch.zeros(2, 3, side, side),), path, input_names=["images"],
                          output_names=outputs, opset_version=opset, dynamo=False,
                          dynamic_axes={name: {0: "batch"} for name in ["images", *outputs]})
    model = onnx.load(path)
    onnx.helper.set_model_props(model, props | {"opset": str(opset)})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="backbones")
    parser.add_argument("--segmenters", nargs="*", default=[], help="trained segmenters (vision/weights/segmenters)")
    parser.add_argument("--out-dir", default=DEFAULT_OUT_DIR)
    parser.add_argument("--opset", type=int, default=OPSET)
    return parser


def main(args):
    for make, names in ((export, args.names), (export_segmenter, args.segmenters)):
        for name in names:
            path = make(name, os.path.join(args.out_dir, f"{name}.onnx"), args.opset)
            print(f"{name}: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
