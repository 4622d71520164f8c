"""Item finding measured on real photos whose products are boxed (vision.coco), through the
worker's own path: items found, each categorized, the photo decided from its main item.

The counts of each photo (labelled, found, matched, matched and right, main item right) and the
figures made of them are defined in vision.evaluate_items, the command that prints them; the
report's galleries and the benches use the same pieces.
"""

import sys
import time

import numpy as np
from tqdm import tqdm

from . import outcomes
from .boxes import match_boxes
from .catalogue import scan_catalogue
from .categorize import Categorizer
from .content_keys import content_key
from .experiment import (
    embed_catalogue,
    loaded,
    make_index,
    novelty_embedder_for,
    warn_about_unrecorded_training,
    with_occasions,
)
from .images import InvalidImage, load_image
from .runtimes import load_embedder
from .splits import holdout_split
from .vote import VoteConfig

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
        # Items on no labelled product: on background, on a product left unboxed, or a duplicate.
        "unmatched_items": int(found - matched),
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
    """(embedder, novelty embedder, the --reference photos embedded, with their occasions), on
    args.runtime."""
    embedder = loaded(load_embedder, args.backbone, args.runtime, device=args.device, batch_size=args.batch_size)
    warn_about_unrecorded_training(embedder.weights)
    novelty_embedder = novelty_embedder_for(embedder, args.device, args.batch_size, args.runtime)
    references = with_occasions(embed_catalogue(scan_catalogue(args.reference), embedder, embedder.batch_size,
                                                "references", novelty_embedder))
    return embedder, novelty_embedder, references


def categorizer_of(embedder, novelty_embedder, references, rows, target_precision):
    """A Categorizer against the reference photos at `rows`, calibrated as the app calibrates."""
    config = VoteConfig()
    return Categorizer(embedder, make_index(references, rows, embedder, config), config, target_precision,
                       novelty_embedder)
