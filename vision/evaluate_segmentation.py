"""Measure a segmenter: foreground quality on image/mask folder pairs, items on composites.

    python -m vision.evaluate_segmentation --images DIR --masks DIR [--split val] [--runtime onnx|torch] [--json FILE]
    python -m vision.evaluate_segmentation --composites N --seed S [--runtime onnx|torch] [--json FILE]

Masks are matched to images by file stem (any image format); a mask pixel > 127 is foreground.
Foreground: per-image IoU and F-measure (β² = 0.3, as in the salient-object literature), both
averaged over the images. Composites: an item is found when one predicted box overlaps its box
with IoU ≥ 0.5 (one-to-one matching); a touching pair is split when both of its items are found.
"""

import argparse
import json

from .arguments import whole_number
from .composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator, paired_masks, split_pairs
from .experiment import chosen_segmenter
from .figures import write_figures
from .runtimes import DEFAULT_RUNTIME, RUNTIMES, served_unet
from .segmenter_figures import evaluate_composites, evaluate_masks


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", help="a UNet segmenter (default: the shipped one, on ONNX Runtime its int8 "
                                             "copy); the product detector has no foreground map to score")
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME,
                        help="what runs the network: ONNX Runtime, as the worker does, or PyTorch, to compare")
    parser.add_argument("--images", help="folder of photos")
    parser.add_argument("--masks", help="folder of binary masks with the photos' file stems")
    parser.add_argument("--split", choices=["all", "train", "val"], default="all",
                        help="only the training or the validation part of the pairs (the split training uses)")
    parser.add_argument("--composites", type=whole_number(1), help="measure items on this many generated composites")
    parser.add_argument("--seed", type=int, default=2000,
                        help="composite seed (default 2000: not the training composites' --seed, 0, nor the 1000 "
                             "that training chooses its epoch on and bench.tune_post_processing tunes on)")
    parser.add_argument("--cut-outs", default=DEFAULT_CUT_OUTS, help="packshots on white to paste")
    parser.add_argument("--backgrounds", default=DEFAULT_ECSSD,
                        help="a folder with images/ and masks/; object-free crops of its validation part")
    parser.add_argument("--size", type=int, default=320, help="composite side in pixels")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


def main(args):
    if not (args.images and args.masks) and not args.composites:
        raise SystemExit("Give --images and --masks, or --composites N (or both).")
    segmenter = chosen_segmenter(args.segmenter or served_unet(args.runtime), args.runtime)
    if segmenter.finds_instances:
        raise SystemExit(f"{args.segmenter} is a product detector: it finds boxes, not a foreground mask; measure it "
                         "with vision.evaluate_items, or name a UNet segmenter here (e.g. unet_lite0_real).")
    figures = {"segmenter": segmenter.version, "runtime": args.runtime}
    if args.images and args.masks:
        pairs = paired_masks(args.images, args.masks)
        if args.split != "all":
            pairs = split_pairs(pairs)[args.split]
        if not pairs:
            raise SystemExit(f"No image in {args.images} has a mask with the same file stem in {args.masks}.")
        figures |= evaluate_masks(segmenter, pairs)
    if args.composites:
        generator = composite_generator(args.cut_outs, args.backgrounds, args.size, args.seed)
        figures |= evaluate_composites(segmenter, generator, args.composites)
    print(json.dumps(figures, indent=2))
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
