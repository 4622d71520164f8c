"""Which layers of a segmenter to quantize to int8: chosen on photos the reported figures never use.

    python -m bench.segmenter_int8 [--segmenter NAME] [--sample 300] [--calibration DIR] [--json FILE]

Each variant is the segmenter's ONNX file (default: the UNet's) quantized as `export_onnx --int8`
quantizes it (vision.onnx_export.quantize: activations calibrated on 128 photos spread over
--calibration), with more or fewer of its first layers kept in float32 (`keep_float`); the float
file itself is measured beside them. Each is measured on what a choice may be made on: item recall
and precision (box IoU >= 0.5, items as the worker finds them) on a spread sample of Freiburg
photos outside the part `vision.evaluate_items --holdout-fraction 0.2` reports on, and the
milliseconds of one photo's pass on one thread. For the UNet those are photos it saw in training
(the figures compare variants, they are not a result), and the mean IoU of its foreground on
ECSSD's training part is measured too; for the product detector, its tuning part
(vision.training.detector.photo_parts), which it never trained on, each box kept (no UNet
foreground beside it: the int8 file is the detector's network alone). A variant to ship is then
measured on the held-out figures (bench/README.md; the detector's network stays in float).
"""

import argparse
import json
import os
import tempfile
import time

from bench.common import FREIBURG, box_counts, detector_photo_parts, embedded_references, f1, tuning_photos
from vision.composites import DEFAULT_ECSSD, split_folder_pairs
from vision.detect import OnnxDetector
from vision.figures import write_figures
from vision.images import load_image
from vision.items import spread
from vision.onnx_export import calibration_photos, quantize
from vision.onnx_runtime import model_kind, onnx_path, squeezed
from vision.segment import UNET_SEGMENTER, OnnxSegmenter
from vision.segmenter_figures import evaluate_masks

GROCERY_TRAIN = os.path.join(os.path.dirname(FREIBURG), "grocery-store", "dataset", "train")
STEM = ("/encoder/_conv_stem", "/encoder/_bn0", "/encoder/_swish/")
# keep_float of each variant: the encoder's stem and first blocks are where quantization error
# enters every later layer; keeping the whole encoder leaves only the decoder (the detector's neck
# and heads) in int8.
VARIANTS = {
    "all int8": (),
    "stem float": STEM,
    "stem and blocks 0-3 float": STEM + tuple(f"/encoder/_blocks.{block}/" for block in range(4)),
    "encoder float": ("/encoder/",),
}


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", default=UNET_SEGMENTER, help="the ONNX file quantized (a UNet or a detector)")
    parser.add_argument("--sample", type=int, default=300, help="Freiburg photos outside the held-out part")
    parser.add_argument("--calibration", default=GROCERY_TRAIN, help="the tree export_onnx --int8 calibrates on")
    parser.add_argument("--masks", type=int, default=100, help="ECSSD training photos, spread")
    parser.add_argument("--json")
    return parser


def main(args):
    float_path = onnx_path(args.segmenter)
    detector = model_kind(float_path) == "detector"
    photos = spread(detector_photo_parts()[1], args.sample) if detector else _seen_photos(args.sample)
    images = [load_image(photo.path) for photo in photos]
    pairs = [] if detector else _ecssd_training_pairs(args.masks)
    calibration = calibration_photos(args.calibration, 128)
    figures = {"segmenter": args.segmenter, "photos": len(photos), "ecssd_photos": len(pairs), "variants": {}}
    with tempfile.TemporaryDirectory() as scratch:
        paths = {"float": float_path} | {
            name: quantize(float_path, os.path.join(scratch, f"{i}.onnx"), calibration, keep_float)
            for i, (name, keep_float) in enumerate(VARIANTS.items())}
        for name, path in paths.items():
            segmenter = (OnnxDetector if detector else OnnxSegmenter)(path, threads=1)
            labelled, found, matched = counts = box_counts(segmenter, images, photos)
            figures["variants"][name] = {
                "keep_float": list(VARIANTS.get(name, ["everything"])), "item_recall": matched / labelled,
                "item_precision": matched / found, "item_f1": f1(counts),
                "ecssd_train_mean_iou": evaluate_masks(segmenter, pairs)["mean_iou"] if pairs else None,
                "ms_a_photo": _ms_a_pass(segmenter, images[0])}
            print(name, json.dumps({k: round(v, 4) for k, v in figures["variants"][name].items()
                                    if isinstance(v, float)}), flush=True)
    write_figures(figures, args.json)
    return figures


def _seen_photos(sample):
    _, _, references = embedded_references("efficientnet_lite0", os.path.join(FREIBURG, "photos"))
    return tuning_photos(references, sample)[0]


def _ecssd_training_pairs(count):
    pairs = split_folder_pairs(DEFAULT_ECSSD)
    return pairs["train"][::max(1, len(pairs["train"]) // count)][:count]


def _ms_a_pass(segmenter, image, runs=40):
    batch = {"images": squeezed(image, segmenter.input_size)[None]}
    segmenter._session.run(None, batch)
    started = time.perf_counter()
    for _ in range(runs):
        segmenter._session.run(None, batch)
    return (time.perf_counter() - started) / runs * 1000


if __name__ == "__main__":
    main(get_args_parser().parse_args())
