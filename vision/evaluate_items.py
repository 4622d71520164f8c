"""Measure item finding on real photos whose products are boxed, through the worker's own path.

    python -m vision.evaluate_items --reference DIR --photos DIR --instances FILE.json
        [--holdout-fraction F] [--segmenter NAME|none] [--backbone NAME] [--json OUT]

Every photo of a COCO instances file (vision.coco) goes through what the worker does with an
upload: items found, each categorized against --reference (a folder-tree catalogue), the
photo's decision made from its main (largest) item as for a one-photo listing. The reference
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
- items_per_photo: items found per photo (labelled products per photo beside it).
"""

import argparse
import sys
import time
from dataclasses import asdict

import numpy as np
from tqdm import tqdm

from . import outcomes
from .backbones import DEFAULT_BACKBONE, get_backbone, list_backbones
from .boxes import match_boxes
from .calibration import DEFAULT_TARGET_PRECISION
from .catalogue import scan_catalogue
from .categorize import Categorizer
from .coco import load_instances
from .content_keys import content_key
from .embedder import Embedder
from .experiment import (
    check_queries,
    embed_catalogue,
    make_index,
    novelty_embedder_for,
    warn_about_unrecorded_training,
    with_occasions,
)
from .figures import write_figures
from .images import InvalidImage, load_image
from .segment import DEFAULT_SEGMENTER, PostProcessing, load_segmenter, post_processing_from
from .splits import holdout_split
from .vote import VoteConfig


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="folder tree of labelled reference photos")
    parser.add_argument("--photos", required=True, help="the folder the instances' file names are relative to")
    parser.add_argument("--instances", required=True, help="COCO instances file: the boxed products of each photo")
    parser.add_argument("--holdout-fraction", type=float,
                        help="measure on the held-out part of the photos (as vision.evaluate), with every "
                             "other reference photo as the catalogue")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--segmenter", default=DEFAULT_SEGMENTER, help="a trained segmenter, or 'none'")
    parser.add_argument("--post-processing", type=post_processing_from, default=PostProcessing(),
                        help='the segmenter\'s post-processing changed, e.g. "merge_inside=none,min_share=0"')
    parser.add_argument("--keep-unlike", action="store_true",
                        help="keep items beside the main one that are unlike the catalogue (the worker drops them)")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=list_backbones())
    parser.add_argument("--target-precision", type=float, default=DEFAULT_TARGET_PRECISION)
    parser.add_argument("--allow-seen", action="store_true",
                        help="measure even photos the embedder was trained on (the figures say so)")
    parser.add_argument("--limit", type=int, help="only N query photos, spread over all of them (a quick look)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--batch-size", type=int, help="images a forward pass (default: 32 on a GPU, 2 on a CPU)")
    parser.add_argument("--device", default=None)
    return parser


# --- scoring -----------------------------------------------------------------------------------

def photo_counts(found, photo, decision):
    """[labelled, found, matched, matched and right, main item right (0/1)] for one photo;
    `found`: [(PhotoItem, CategorizedImage)], `decision`: the photo's calibrated Decision."""
    truth = [product.box for product in photo.products]
    matches = match_boxes([item.box for item, _ in found], truth)
    right = sum(found[i][1].decision.predicted == photo.products[j].category for j, i in matches.items())
    main_right = (decision is not None and decision.outcome != outcomes.NOT_IN_CATALOGUE
                  and decision.predicted == photo.category)
    return np.array([len(truth), len(found), len(matches), right, int(main_right)])


def item_figures(counts):
    """Figures of summed photo_counts rows ([n_photos, 5])."""
    counts = np.asarray(counts).reshape(-1, 5)
    labelled, found, matched, right, main_right = counts.sum(axis=0)
    photos, with_products = len(counts), int((counts[:, 0] > 0).sum())  # a photo with no box has no truth
    return {
        "item_recall": matched / labelled if labelled else None,
        "item_precision": matched / found if found else None,
        "item_accuracy": right / matched if matched else None,
        "main_item_accuracy": main_right / with_products if with_products else None,
        "items_per_photo": found / photos if photos else None,
        "products_per_photo": labelled / photos if photos else None,
        "n_photos": photos,
        "n_products": int(labelled),
    }


def figures_by_kind(counts):
    """Overall, then for photos with one labelled product and with several."""
    counts = np.asarray(counts).reshape(-1, 5)
    labelled = counts[:, 0]
    return item_figures(counts) | {"one_product": item_figures(counts[labelled == 1]),
                                   "several_products": item_figures(counts[labelled > 1])}


# --- running -----------------------------------------------------------------------------------

def queries_and_references(photos, references, args):
    """(query photos, reference rows): the boxed photos measured and the catalogue rows they are
    categorized against, no photo in both."""
    if args.holdout_fraction:
        _, held = holdout_split(references.images, args.holdout_fraction, args.split_seed, references.groups)
        held_keys = {content_key(image.path) for image in held}
        photos = [photo for photo in photos if _key(photo.path) in held_keys]
    photos = spread(photos, args.limit)
    query_keys = {_key(photo.path) for photo in photos} - {None}
    rows = [row for row, image in enumerate(references.images) if content_key(image.path) not in query_keys]
    return photos, rows


def spread(photos, count):
    """`count` photos spread evenly over the list (all of them without a count): a files-order
    prefix would be a few categories only."""
    if count is None or count >= len(photos):
        return photos
    return [photos[i] for i in np.linspace(0, len(photos) - 1, count).round().astype(int)]


def _key(path):
    try:
        return content_key(path)
    except OSError:
        return None


def categorize_photos(categorizer, segmenter, photos, drop_unlike, images=None):
    """(photo_counts rows, [(path, reason)] of unreadable photos, seconds per photo); `images`: the
    photos already loaded, when they are."""
    rows, skipped, started = [], [], time.perf_counter()
    for i, photo in enumerate(tqdm(photos, desc="photos", unit="photo", file=sys.stderr)):
        try:
            image = images[i] if images is not None else load_image(photo.path)
        except (InvalidImage, OSError) as error:
            skipped.append((photo.path, str(error)))
            continue
        found = categorizer.categorize_photo(image, segmenter, drop_unlike=drop_unlike)
        main = found[0][1] if found else None
        decision = main and categorizer.decide_listing([main.assignment], [main.decision.top_similarity])
        rows.append(photo_counts(found, photo, decision))
    seconds = (time.perf_counter() - started) / max(len(rows), 1)
    return np.array(rows).reshape(-1, 5), skipped, seconds


def embedded_references(args):
    """(embedder, novelty embedder, the --reference photos embedded, with their occasions)."""
    embedder = Embedder(get_backbone(args.backbone), device=args.device, batch_size=args.batch_size)
    warn_about_unrecorded_training(embedder.weights)
    novelty_embedder = novelty_embedder_for(embedder, args.device, args.batch_size)
    references = with_occasions(embed_catalogue(scan_catalogue(args.reference), embedder, embedder.batch_size,
                                                "references", novelty_embedder))
    return embedder, novelty_embedder, references


def categorizer_of(embedder, novelty_embedder, references, rows, target_precision):
    """A Categorizer against the reference photos at `rows`, calibrated as the app calibrates."""
    config = VoteConfig()
    return Categorizer(embedder, make_index(references, rows, embedder, config), config, target_precision,
                       novelty_embedder)


def main(args):
    photos = load_instances(args.instances, args.photos)
    embedder, novelty_embedder, references = embedded_references(args)
    photos, rows = queries_and_references(photos, references, args)
    if not photos:
        raise SystemExit("No photo of the instances file is left to measure (is --photos the folder its "
                         "file names are relative to?).")
    seen = check_queries([photo.as_catalogue_image() for photo in photos], embedder.weights, args.allow_seen)
    categorizer = categorizer_of(embedder, novelty_embedder, references, rows, args.target_precision)
    segmenter = None if args.segmenter == "none" else load_segmenter(args.segmenter, device=args.device)
    if segmenter is not None:
        segmenter.settings = args.post_processing
    counts, skipped, seconds = categorize_photos(categorizer, segmenter, photos, not args.keep_unlike)
    figures = figures_by_kind(counts) | {
        "protocol": (f"{len(counts)} boxed photos" + (f", the {args.holdout_fraction:.0%} held-out part"
                                                      if args.holdout_fraction else "")
                     + f", against {len(rows)} reference photos"),
        "seen_queries": seen,
        "segmenter": segmenter.version if segmenter else None,
        "post_processing": asdict(segmenter.settings) if segmenter else None,
        "unlike_items": "kept" if args.keep_unlike else "dropped",
        "backbone": embedder.weights.version,
        "seconds_per_photo": seconds,
        "skipped": [{"path": path, "reason": reason} for path, reason in references.skipped + skipped],
    }
    print_report(figures)
    for path, reason in references.skipped + skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    write_figures(figures, args.json)
    return figures


def print_report(figures):
    print(figures["protocol"] + f"; segmenter {figures['segmenter']}, backbone {figures['backbone']}")
    for label, part in (("all", figures), ("one product", figures["one_product"]),
                        ("several", figures["several_products"])):
        print(f"{label:>12}: " + "  ".join(
            f"{key} {_number(part[key])}" for key in ("item_recall", "item_precision", "item_accuracy",
                                                     "main_item_accuracy", "items_per_photo",
                                                     "products_per_photo", "n_photos")))


def _number(value):
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


if __name__ == "__main__":
    main(get_args_parser().parse_args())
