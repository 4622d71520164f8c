"""Measure a segmenter: foreground quality on image/mask folder pairs, items on composites.

    python -m vision.evaluate_segmentation --images DIR --masks DIR [--split val] [--json FILE]
    python -m vision.evaluate_segmentation --composites N --seed S [--json FILE]

Masks are matched to images by file stem (any image format); a mask pixel > 127 is foreground.
Foreground: per-image IoU and F-measure (β² = 0.3, as in the salient-object literature), both
averaged over the images. Composites: an item is found when one predicted box overlaps its box
with IoU ≥ 0.5 (one-to-one matching); a touching pair is split when both of its items are found.
"""

import argparse
import json

import numpy as np

from .boxes import match_boxes
from .composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator, load_mask, paired_masks, split_pairs
from .figures import write_figures
from .images import load_image
from .segment import DEFAULT_SEGMENTER, load_segmenter

F_BETA_SQUARED = 0.3


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", default=DEFAULT_SEGMENTER)
    parser.add_argument("--images", help="folder of photos")
    parser.add_argument("--masks", help="folder of binary masks with the photos' file stems")
    parser.add_argument("--split", choices=["all", "train", "val"], default="all",
                        help="only the training or the validation part of the pairs (the split training uses)")
    parser.add_argument("--composites", type=int, help="measure items on this many generated composites")
    parser.add_argument("--seed", type=int, default=1000, help="composite seed (training uses seeds below 1000)")
    parser.add_argument("--cut-outs", default=DEFAULT_CUT_OUTS, help="packshots on white to paste")
    parser.add_argument("--backgrounds", default=DEFAULT_ECSSD,
                        help="a folder with images/ and masks/; object-free crops of its validation part")
    parser.add_argument("--size", type=int, default=320, help="composite side in pixels")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


def mask_scores(predicted, truth):
    """(IoU, F-measure) of two bool masks; an empty truth predicted empty scores 1."""
    intersection = np.logical_and(predicted, truth).sum()
    union = np.logical_or(predicted, truth).sum()
    if union == 0:
        return 1.0, 1.0
    precision = intersection / max(predicted.sum(), 1)
    recall = intersection / max(truth.sum(), 1)
    denominator = F_BETA_SQUARED * precision + recall
    f_measure = (1 + F_BETA_SQUARED) * precision * recall / denominator if denominator else 0.0
    return float(intersection / union), float(f_measure)


def evaluate_masks(segmenter, pairs):
    scores = []
    for image_path, mask_path in pairs:
        truth = load_mask(mask_path)
        foreground, _ = segmenter.predict(load_image(image_path), size=truth.shape)
        scores.append(mask_scores(foreground >= segmenter.settings.threshold, truth))
    ious, f_measures = zip(*scores) if scores else ((), ())
    return {"mean_iou": _mean(ious), "f_measure": _mean(f_measures), "n_images": len(scores)}


def item_counts(boxes, composite):
    """[found, predicted, true items, touching pairs, touching pairs split] for one composite."""
    matches = match_boxes(boxes, composite.boxes)
    split = sum(i in matches and j in matches for i, j in composite.touching)
    return np.array([len(matches), len(boxes), len(composite.boxes), len(composite.touching), split])


def item_figures(counts):
    found, predicted, truth, pairs, split = (int(c) for c in counts)
    return {
        "item_precision": found / predicted if predicted else 0.0,
        "item_recall": found / truth if truth else 0.0,
        "touching_split_rate": split / pairs if pairs else None,
        "n_items": truth, "n_predicted": predicted, "n_touching_pairs": pairs,
    }


def evaluate_composites(segmenter, generator, count):
    counts = sum((item_counts([item.box for item in segmenter.segment(composite.image)], composite)
                  for composite in map(generator, range(count))), np.zeros(5, int))
    return item_figures(counts) | {"n_composites": count}


def _mean(values):
    return float(np.mean(values)) if len(values) else None


def main(args):
    if not (args.images and args.masks) and not args.composites:
        raise SystemExit("Give --images and --masks, or --composites N (or both).")
    segmenter = load_segmenter(args.segmenter)
    figures = {"segmenter": segmenter.version}
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
