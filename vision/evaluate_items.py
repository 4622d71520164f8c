"""Measure item finding on real photos whose products are boxed, through the worker's own path.

    python -m vision.evaluate_items --reference DIR --photos DIR --instances FILE.json
        [--holdout-fraction F] [--segmenter NAME|none] [--backbone NAME] [--runtime onnx|torch] [--json OUT]

Every photo of a COCO instances file (vision.coco) goes through what the worker does with an
upload: items found, each categorized against --reference (a folder-tree catalogue), the
photo's decision made from its main item as for a one-photo listing. The reference
photos that are also queries are left out of the references (matched by content, so the same
folder may serve as both). With --holdout-fraction F the queries are the part of the photos that
`vision.evaluate --holdout-fraction F` and the training scripts hold out (whole occasions, every
category), and the references are all the others.

Figures (overall, and for photos with one labelled product and with several):
- item_recall: labelled products matched by a found item (box IoU ≥ 0.5, one to one);
- item_precision: found items that match a labelled product. Where not every product of a photo
  is boxed (those cut off at its edges often are not), an item on an unboxed one counts against
  it, so precision is a lower bound there; recall and main_item_accuracy are unaffected;
- item_accuracy: matched items whose predicted category path is the product's;
- main_item_accuracy: photos whose decision is the labelled product's path (a photo judged "not
  in the catalogue" is wrong);
- items_per_photo: items found per photo (labelled products per photo beside it);
- unmatched_items: found items that match no labelled product (on background, on an unboxed
  product, or a second box on one product).
"""

import argparse
import sys
from dataclasses import asdict

from .arguments import fraction
from .calibration import DEFAULT_TARGET_PRECISION
from .coco import load_instances
from .content_keys import content_key
from .experiment import check_queries, chosen_segmenter
from .figures import write_figures
from .items import categorize_photos, categorizer_of, embedded_references, figures_by_kind, queries_and_references
from .model_weights import DEFAULT_BACKBONE
from .runtimes import DEFAULT_RUNTIME, RUNTIMES
from .segment import changed_settings


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="folder tree of labelled reference photos")
    parser.add_argument("--photos", required=True, help="the folder the instances' file names are relative to")
    parser.add_argument("--instances", required=True, help="COCO instances file: the boxed products of each photo")
    parser.add_argument("--holdout-fraction", type=fraction,
                        help="measure on the held-out part of the photos (as vision.evaluate), with every "
                             "other reference photo as the catalogue")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--segmenter", help="a trained segmenter, or 'none' (default: the one the worker serves on "
                                             "--runtime)")
    parser.add_argument("--post-processing", default="",
                        help='the segmenter\'s post-processing changed, e.g. "merge_inside=none,min_share=0"')
    parser.add_argument("--keep-unlike", action="store_true",
                        help="keep items beside the main one that are unlike the catalogue (the worker drops them)")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE)
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME,
                        help="what runs the networks: ONNX Runtime, as the worker does, or PyTorch, to compare")
    parser.add_argument("--target-precision", type=fraction, default=DEFAULT_TARGET_PRECISION)
    parser.add_argument("--allow-seen", action="store_true",
                        help="measure even photos the embedder or the item finder was trained on (the figures "
                             "say so)")
    parser.add_argument("--limit", type=int, help="only N query photos, spread over all of them (a quick look)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--batch-size", type=int,
                        help="images a forward pass (default: on ONNX Runtime 8; on PyTorch 32 on a GPU, 2 on a CPU)")
    parser.add_argument("--device", default=None, help="with --runtime torch: cpu or cuda (default: cuda if available)")
    return parser


def main(args):
    photos = load_instances(args.instances, args.photos)
    embedder, novelty_embedder, references = embedded_references(args)
    photos, rows = queries_and_references(photos, references, args)
    if not photos:
        raise SystemExit("No photo of the instances file is left to measure (is --photos the folder its "
                         "file names are relative to?).")
    seen = check_queries([photo.as_catalogue_image() for photo in photos], embedder.weights, args.allow_seen)
    categorizer = categorizer_of(embedder, novelty_embedder, references, rows, args.target_precision)
    segmenter = None if args.segmenter == "none" else chosen_segmenter(args.segmenter, args.runtime, args.device)
    if segmenter is not None:
        segmenter.settings = changed_settings(segmenter, args.post_processing)
    seen_by_finder = check_photos_found_by(segmenter, photos, args.allow_seen)
    counts, skipped, seconds = categorize_photos(categorizer, segmenter, photos, not args.keep_unlike)
    figures = figures_by_kind(counts) | {
        "protocol": (f"{len(counts)} boxed photos" + (f", the {args.holdout_fraction:.0%} held-out part"
                                                      if args.holdout_fraction else "")
                     + f", against {len(rows)} reference photos"),
        "seen_queries": seen,
        "seen_by_item_finder": seen_by_finder,
        "segmenter": segmenter.version if segmenter else None,
        "post_processing": asdict(segmenter.settings) if segmenter else None,
        "unlike_items": "kept" if args.keep_unlike else "dropped",
        "backbone": embedder.weights.version,
        "runtime": args.runtime,
        "seconds_per_photo": seconds,
        "skipped": [{"path": path, "reason": reason} for path, reason in references.skipped + skipped],
    }
    print_report(figures)
    for path, reason in references.skipped + skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    write_figures(figures, args.json)
    return figures


def check_photos_found_by(segmenter, photos, allow_seen):
    """The number of `photos` the item finder (a detector records them) was trained on; exits on
    any unless allowed: its boxes there would flatter it as the embedder's answers would."""
    trained_on = getattr(segmenter, "trained_on", frozenset())
    seen = sum(content_key(photo.path) in trained_on for photo in photos) if trained_on else 0
    if seen and not allow_seen:
        raise SystemExit(f"{seen} of the {len(photos)} photos are photos the item finder {segmenter.version} was "
                         "trained on; its figures on them would be flattered. Measure on photos it never saw (its "
                         "held-out part: --holdout-fraction 0.2), or pass --allow-seen to measure anyway.")
    return seen


def print_report(figures):
    print(figures["protocol"] + f"; segmenter {figures['segmenter']}, backbone {figures['backbone']}")
    for label, part in (("all", figures), ("one product", figures["one_product"]),
                        ("several", figures["several_products"])):
        print(f"{label:>12}: " + "  ".join(
            f"{key} {_number(part[key])}" for key in ("item_recall", "item_precision", "item_accuracy",
                                                     "main_item_accuracy", "items_per_photo",
                                                     "products_per_photo", "unmatched_items", "n_photos")))
    for key, what in (("seen_queries", "the embedder"), ("seen_by_item_finder", "the item finder")):
        if figures[key]:
            print(f"WARNING: {figures[key]} photos were photos {what} trained on")


def _number(value):
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


if __name__ == "__main__":
    main(get_args_parser().parse_args())
