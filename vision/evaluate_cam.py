"""Pointing game: does the heatmap point at the product it is about?

    python -m vision.evaluate_cam --reference DIR [--backbone NAME] --composites N [--seed S] [--runtime onnx|torch]
        [--json FILE]

Each composite is one known product (a catalogue packshot, background removed) pasted at a random
place, scale and rotation onto an object-free crop of another photo (ECSSD validation part) or a
plain backdrop. The composite goes through what the worker does with a photo (items found, each
item's crop embedded; with --segmenter none, the whole composite is the item), and the class-
activation map of the product's category over the item that covers the product, upsampled to the
photo, is a hit when its maximum falls inside the product's mask: strictly, or within 15 pixels
(the pointing game's usual tolerance, Zhang et al. 2016). The head is trained on the reference
embeddings, as the worker's is. The networks run on ONNX Runtime, as in the worker, unless
--runtime torch.
"""

import argparse
import json
import sys

import numpy as np
from PIL import Image
from scipy import ndimage
from tqdm import tqdm

from .arguments import whole_number
from .boxes import box_iou
from .cam import activation_map, covered_region, refresh_head
from .catalogue import scan_catalogue
from .categorize import Categorizer, build_index
from .composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, Backgrounds, CompositeGenerator, cut_out, split_folder_pairs
from .experiment import chosen_segmenter, loaded
from .figures import write_figures
from .images import load_image
from .model_weights import DEFAULT_BACKBONE
from .runtimes import DEFAULT_RUNTIME, RUNTIMES, load_embedder

TOLERANCE = 15


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="folder tree of labelled reference images")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE)
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME,
                        help="what runs the networks: ONNX Runtime, as the worker does, or PyTorch, to compare")
    parser.add_argument("--composites", type=whole_number(1), default=500, help="composites played (at least 1)")
    parser.add_argument("--seed", type=int, default=3000)
    parser.add_argument("--cut-outs", default=DEFAULT_CUT_OUTS,
                        help="packshots on white in the same folder tree as --reference (folder = category)")
    parser.add_argument("--backgrounds", default=DEFAULT_ECSSD,
                        help="a folder with images/ and masks/; object-free crops of its validation part")
    parser.add_argument("--size", type=int, default=320, help="composite side in pixels")
    parser.add_argument("--segmenter",
                        help="find the items first and use the product's, as the worker does (default: the segmenter "
                             "it serves on --runtime); 'none': the map of the whole composite")
    parser.add_argument("--device", default=None, help="with --runtime torch: cpu or cuda (default: cuda if available)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


def pointing_generator(cut_out_dir, background_dir, categories, size, seed):
    """(generator of one-product composites, the category of each cut-out)."""
    packshots = [p for p in scan_catalogue(cut_out_dir) if p.category in categories]
    pairs = split_folder_pairs(background_dir)["val"]
    backgrounds = Backgrounds(*zip(*pairs)) if pairs else Backgrounds([], [])
    cut_outs = [cut_out(load_image(p.path)) for p in packshots]
    return CompositeGenerator(cut_outs, backgrounds, size, seed, max_items=1), [p.category for p in packshots]


def peak(activation, crop_box, weights):
    """(x, y) in photo pixels of the maximum of an item's map, upsampled (bicubic, as the stored
    overlay is) over the part of the item's crop the embedder saw."""
    left, top, right, bottom = crop_box
    region = covered_region((right - left, bottom - top), weights.resize_size, weights.crop_size)
    width, height = region[2] - region[0], region[3] - region[1]
    heat = np.asarray(Image.fromarray(activation.astype(np.float32), "F").resize((width, height), Image.BICUBIC))
    row, column = np.unravel_index(np.argmax(heat), heat.shape)
    return left + region[0] + column, top + region[1] + row


def product_item(found, product_box):
    """The (PhotoItem, CategorizedImage) that best overlaps the product's box."""
    return max(found, key=lambda pair: box_iou(pair[0].box, product_box))


def play(categorizer, segmenter, generator, sources, count):
    """Hits: the map of the product's true category, strictly in its mask and within the
    tolerance, and the stored map (the assigned category's) within the tolerance."""
    weights, index = categorizer.embedder.weights, categorizer.index
    category_ids = {c: i for i, c in enumerate(index.categories)}
    hits = {"true_strict": 0, "true_tolerant": 0, "assigned_tolerant": 0}
    for number in tqdm(range(count), desc="composites", unit="img", file=sys.stderr):
        composite = generator(number)
        mask, near = composite.masks[0], ndimage.binary_dilation(composite.masks[0], iterations=TOLERANCE)
        item, categorized = product_item(categorizer.categorize_photo(composite.image, segmenter),
                                         composite.boxes[0])
        crop_box = item.crop_box(composite.image.size)
        true_category = category_ids[sources[composite.sources[0]]]
        x, y = peak(activation_map(categorized.feature_map, index.head, true_category), crop_box, weights)
        hits["true_strict"] += bool(mask[y, x])
        hits["true_tolerant"] += bool(near[y, x])
        x, y = peak(categorizer.explain(categorized).activation, crop_box, weights)
        hits["assigned_tolerant"] += bool(near[y, x])
    return hits


def main(args):
    embedder = loaded(load_embedder, args.backbone, args.runtime, device=args.device)
    index, skipped = build_index(scan_catalogue(args.reference), embedder)
    refresh_head(index)
    generator, sources = pointing_generator(args.cut_outs, args.backgrounds, set(index.categories), args.size,
                                            args.seed)
    segmenter = None if args.segmenter == "none" else chosen_segmenter(args.segmenter, args.runtime, args.device)
    hits = play(Categorizer(embedder, index), segmenter, generator, sources, args.composites)
    figures = {
        "backbone": embedder.weights.version,
        "runtime": args.runtime,
        "segmenter": segmenter.version if segmenter else None,
        "composites": args.composites,
        "seed": args.seed,
        "tolerance_px": TOLERANCE,
        "pointing_accuracy": hits["true_tolerant"] / args.composites,
        "pointing_accuracy_strict": hits["true_strict"] / args.composites,
        "pointing_accuracy_assigned_category": hits["assigned_tolerant"] / args.composites,
        "references": len(index),
        "unreadable_references": len(skipped),
    }
    print(json.dumps(figures, indent=2))
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
