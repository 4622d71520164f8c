"""How the worker's rules around the product detector were chosen: on the detector's tuning part.

    python -m bench.detector_rules [--json FILE]

The tuning part is the fifth of the boxed Freiburg photos outside their validation part that the
detector's score threshold was chosen on (vision.training.detector.photo_parts); the catalogue is the
detector's training photos, embedded with the frozen efficientnet_lite0 on ONNX Runtime, as a worker
serves it. Each photo's boxes (the shipped detector, none dropped as behind the subject), the shipped
int8 UNet's foreground share of each box, and the categorization of every box's crop and of the whole
photo are recorded once; the rules are then compared on those records:
- `main_item`: main item accuracy with the photo decided by its main item's crop; by the crop and the
  whole photo pooled; by the whole photo; by the whole photo where its view shows the main item and
  names the main item's department (the worker's rule, vision.categorize);
- `min_foreground`: item recall and precision with the boxes beside the main one dropped under each
  share of their box on the UNet's foreground (vision.detect.in_front), and how many of the 23 hand
  photos of bench.items_in_hand then give one item;
- `rival_share`: the same for the UNet's rule that a photo is about its main item when no other item
  is at least a share of its size, which was not kept.
Items beside the main one unlike the catalogue are dropped as the worker drops them; a photo left with
one item not under a tenth of it is about that item (vision.segment).
"""

import argparse
import json
import os
import sys

import numpy as np

from bench.common import (FREIBURG, HELD_IN_A_HAND, VAL_PACKAGES, categorizer_over, detector_photo_parts,
                          embedded_references)
from vision import outcomes
from vision.boxes import match_boxes
from vision.categorize import main_item_seen_whole, shown_whole
from vision.content_keys import content_key
from vision.detect import foreground_shares
from vision.figures import write_figures
from vision.images import load_image
from vision.runtimes import load_segmenter
from vision.segment import DEFAULT_SEGMENTER, LONE_ITEM_CROP_BELOW, PhotoItem, whole_photo_item

SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
RIVAL_SHARES = (0.5, 0.4, 0.33)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json")
    args = parser.parse_args()
    detector = load_segmenter(DEFAULT_SEGMENTER, threads=1)
    unet, detector.foreground = detector.foreground, None  # every box recorded, the UNet's share beside it
    embedder, novelty_embedder, references = embedded_references("efficientnet_lite0", os.path.join(FREIBURG, "photos"))
    train, tuning, _ = detector_photo_parts()
    train_keys = {content_key(photo.path) for photo in train}
    rows = [row for row, image in enumerate(references.images) if content_key(image.path) in train_keys]
    categorizer = categorizer_over(references, np.array(rows), embedder, novelty_embedder)
    records = [record(load_image(photo.path), photo, detector, unet, categorizer) for photo in tuning]
    hands = [record(load_image(os.path.join(VAL_PACKAGES, name)), None, detector, unet) for name in HELD_IN_A_HAND]
    report = {
        "protocol": f"{len(records)} boxed photos of the detector's tuning part, against its {len(rows)} training "
                    f"photos; {detector.version}, foreground {unet.version}, {embedder.weights.version}",
        "main_item": {name: main_item_accuracy(records, categorizer, rule) for name, rule in MAIN_ITEM_RULES.items()},
        "min_foreground": {str(share): items_kept(records, hands, lambda r, s=share: behind_dropped(r, s))
                           for share in SHARES},
        "rival_share": {str(share): items_kept(records, hands, lambda r, s=share: about_main_item(r, s))
                        for share in RIVAL_SHARES},
    }
    print(json.dumps(report, indent=2))
    write_figures(report, args.json)


def record(image, photo, detector, unet, categorizer=None):
    """One photo's boxes, each one's share on the UNet's foreground, and (with a categorizer) each
    box's crop and the whole photo categorized, the whole photo last."""
    items = detector.segment(image)
    [(foreground, _)] = unet.predict_many([image])
    found = {"size": image.size, "boxes": [item.box for item in items],
             "coverage": [item.coverage for item in items], "foreground": foreground_shares(items, foreground)}
    if categorizer is not None:
        views = [item.crop(image) for item in items] + [whole_photo_item(image.size).crop(image)]
        found["results"] = categorizer.categorize(views)
        found["truth"] = photo.category
        found["products"] = [product.box for product in photo.products]
    return found


# --- the photo's decision -------------------------------------------------------------------------

def _about_one(r):
    return not r["boxes"] or (len(r["boxes"]) == 1 and r["coverage"][0] >= LONE_ITEM_CROP_BELOW)


def _seen_whole(r):
    """Whether the worker's rule (vision.categorize) categorizes the main item on the whole photo."""
    main = PhotoItem(r["boxes"][0], None, 1.0, r["coverage"][0])
    return shown_whole(main, r["size"]) and main_item_seen_whole(main, r["results"][0], r["results"][-1])[0].whole_photo


MAIN_ITEM_RULES = {  # the views ([-1]: the whole photo) whose votes decide the photo
    "crop": lambda r: [-1] if _about_one(r) else [0],
    "crop and whole pooled": lambda r: [-1] if _about_one(r) else [0, -1],
    "whole": lambda r: [-1],
    "whole where it shows the item and names its department (shipped)": lambda r: (
        [-1] if _about_one(r) or _seen_whole(r) else [0]),
}


def main_item_accuracy(records, categorizer, rule):
    right = 0
    for r in records:
        decision = categorizer.decide_listing([r["results"][i].assignment for i in rule(r)])
        right += decision.outcome != outcomes.NOT_IN_CATALOGUE and tuple(decision.predicted) == tuple(r["truth"])
    return round(right / len(records), 4)


# --- the items kept ---------------------------------------------------------------------------------

def behind_dropped(r, share):
    """The boxes kept: the main one, and those beside it at least `share` on the foreground."""
    return [0] + [i for i in range(1, len(r["boxes"])) if r["foreground"][i] >= share]


def about_main_item(r, share):
    """The boxes kept under the UNet's rule: the main one alone when no other is `share` its size."""
    rivals = [i for i in range(1, len(r["boxes"])) if r["coverage"][i] >= share * r["coverage"][0]]
    return [0] if not rivals else list(range(len(r["boxes"])))


def items_kept(records, hands, keep):
    labelled = found = matched = 0
    for r in records:
        kept = keep(r) if r["boxes"] else []
        if len(kept) > 1:  # beside the main one, what is unlike the catalogue goes (as the worker drops it)
            kept = kept[:1] + [i for i in kept[1:] if r["results"][i].decision.outcome != outcomes.NOT_IN_CATALOGUE]
        boxes = [r["boxes"][i] for i in kept] if kept else [(0, 0, *r["size"])]  # nothing found: the photo
        labelled, found = labelled + len(r["products"]), found + len(boxes)
        matched += len(match_boxes(boxes, r["products"]))
    one_item = sum(len(keep(hand)) <= 1 for hand in hands)
    return {"item_recall": round(matched / labelled, 4), "item_precision": round(matched / found, 4),
            "hand_photos_with_one_item": f"{one_item} of {len(hands)}"}


if __name__ == "__main__":
    sys.exit(main())
