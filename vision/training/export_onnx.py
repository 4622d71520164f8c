"""Export shipped backbones for ONNX Runtime (vision.onnx_runtime): one .onnx file each.

    python -m vision.training.export_onnx NAME [NAME ...] [--segmenters NAME ...] [--out-dir DIR] [--opset 17]

NAME is any backbone get_backbone knows (grocery, grocery_lite0, efficientnet_lite0, ...; an
ensemble is exported whole, its members' maps weighted and joined as in PyTorch). The graph takes
a batch of preprocessed images of any size ("images": B×3×crop×crop) and gives the feature map
("feature_map": B×C×H×W, for the heatmaps) and the pooled, L2-normalised embedding ("embedding":
B×D). The weights' name, version, feature size, preprocessing and the opset are written in the
file's metadata. A segmenter (--segmenters) gives its two maps' logits at its input size. Files go
to vision/weights/onnx/NAME.onnx unless --out-dir says otherwise. With --int8 DIR, each model is
also written quantized to int8 (NAME_int8.onnx, a model of its own: evaluate it by that name).
"""

import argparse
import os

from vision.model_weights import INT8_SUFFIX
from vision.onnx_export import OPSET, calibration_photos, export, export_segmenter, quantize
from vision.onnx_runtime import onnx_dir


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="backbones")
    parser.add_argument("--segmenters", nargs="*", default=[], help="trained segmenters (vision/weights/segmenters)")
    parser.add_argument("--out-dir", default=onnx_dir(), help="default: beside the weights (VISION_WEIGHTS_DIR)/onnx")
    parser.add_argument("--opset", type=int, default=OPSET)
    parser.add_argument("--int8", metavar="DIR",
                        help="also write each model quantized to int8 (NAME_int8.onnx), its activations "
                             "calibrated on photos of this reference tree")
    parser.add_argument("--int8-photos", type=int, default=128, help="calibration photos, spread over the tree")
    return parser


def main(args):
    for make, names in ((export, args.names), (export_segmenter, args.segmenters)):
        for name in names:
            path = make(name, os.path.join(args.out_dir, f"{name}.onnx"), args.opset)
            print(f"{name}: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
            if args.int8:
                quantized = quantize(path, os.path.join(args.out_dir, f"{name}{INT8_SUFFIX}.onnx"),
                                     calibration_photos(args.int8, args.int8_photos))
                print(f"{name}{INT8_SUFFIX}: {quantized} ({os.path.getsize(quantized) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
