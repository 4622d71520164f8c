"""Whether the UNet's foreground makes the detector's item outlines follow the products.

    python -m bench.detector_outlines [--composites 500] [--json FILE]

A detector's item is a box; the outline the listing page draws ("Show item outlines") was that box
until the item's mask became the largest piece of the shipped UNet's foreground within it, holes
filled (vision.detect.shaped). Both
are measured against exact masks the detector and the UNet never trained on:
- ECSSD's validation part (real photos, one salient object or group each; `split_pairs`' val, which
  the UNet's training measured its epochs on but never trained on): the
  IoU of all items' masks together with the object's mask, averaged over the photos;
- composites of Grocery packshots on ECSSD validation backgrounds (seed 2000, as
  `vision.evaluate_segmentation --composites` draws them): for each item matched to a pasted product
  (box IoU >= 0.5), the IoU of its mask with that product's visible pixels, averaged over the items.
Items are the worker's: the shipped detector on ONNX Runtime, boxes behind the subject dropped.
"""

import argparse
import json

import numpy as np
from PIL import Image

from vision.boxes import match_boxes
from vision.composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator, load_mask, split_folder_pairs
from vision.detect import in_front, shaped
from vision.figures import write_figures
from vision.images import load_image
from vision.runtimes import load_segmenter
from vision.segment import DEFAULT_SEGMENTER
from vision.segmenter_figures import mask_scores

COMPOSITE_SIDE = 320  # as vision.evaluate_segmentation draws them


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--composites", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--json")
    return parser


def main(args):
    detector = load_segmenter(DEFAULT_SEGMENTER, threads=1)
    unet, detector.foreground = detector.foreground, None  # the boxes first, the foreground applied here
    min_foreground = detector.settings.min_foreground
    pairs = split_folder_pairs(DEFAULT_ECSSD)
    ecssd = {"box": [], "shaped": []}
    for image_path, mask_path in pairs["val"]:
        image, truth = load_image(image_path), load_mask(mask_path)
        boxes, outlines = items_both_ways(image, detector, unet, min_foreground)
        for name, items in (("box", boxes), ("shaped", outlines)):
            union = np.zeros(truth.shape, bool)
            for item in items:
                union |= at_size(item.mask, truth.shape)
            ecssd[name].append(mask_scores(union, truth)[0])
    generator = composite_generator(DEFAULT_CUT_OUTS, DEFAULT_ECSSD, COMPOSITE_SIDE, args.seed)
    composites = {"box": [], "shaped": []}
    for composite in map(generator, range(args.composites)):
        boxes, outlines = items_both_ways(composite.image, detector, unet, min_foreground)
        matches = match_boxes([item.box for item in boxes], composite.boxes)
        for true, found in matches.items():
            truth = composite.masks[true]
            for name, items in (("box", boxes), ("shaped", outlines)):
                composites[name].append(mask_scores(at_size(items[found].mask, truth.shape), truth)[0])
    report = {
        "protocol": f"{detector.version}, foreground {unet.version}, min_foreground {min_foreground}",
        "ecssd_val": {"photos": len(ecssd["box"])} | {f"mean_iou_{k}": float(np.mean(v)) for k, v in ecssd.items()},
        "composites": {"composites": args.composites, "seed": args.seed, "side": COMPOSITE_SIDE,
                       "matched_items": len(composites["box"])}
        | {f"mean_iou_{k}": float(np.mean(v)) for k, v in composites.items()},
    }
    print(json.dumps(report, indent=2))
    write_figures(report, args.json)
    return report


def items_both_ways(image, detector, unet, min_foreground):
    """(the worker's items with box masks, the same items shaped on the UNet's foreground)."""
    [(foreground, _)] = unet.predict_many([image])
    items = in_front(detector.segment(image), foreground, min_foreground)
    return items, shaped(items, foreground, min_foreground)


def at_size(mask, shape):
    """A mask at the working size brought to `shape` (h, w), nearest pixel."""
    return np.array(Image.fromarray(mask).resize(shape[::-1], Image.NEAREST))


if __name__ == "__main__":
    main(get_args_parser().parse_args())
