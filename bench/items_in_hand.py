"""How many items the worker finds on photos of one product held in a hand, in front of a shelf.

    python -m bench.items_in_hand [--segmenter NAME ...] [--post-processing SETTINGS] [--json FILE]

The photos are the 23 Grocery val photos (of the first three of each Packages leaf) that show one
carton held in a hand; each should give one item. Items are counted as photo_items gives them
(before the catalogue is consulted, so no item is dropped as unlike it).
"""

import argparse
import os

from bench.common import HELD_IN_A_HAND, VAL_PACKAGES
from vision.figures import write_figures
from vision.images import load_image
from vision.segment import DEFAULT_SEGMENTER, changed_settings, photo_items
from vision.unet import load_segmenter


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", action="append")
    parser.add_argument("--post-processing", default="",
                        help='the post-processing changed, e.g. "merge_inside=none,min_share=0"')
    parser.add_argument("--json")
    args = parser.parse_args()
    images = [load_image(os.path.join(VAL_PACKAGES, name)) for name in HELD_IN_A_HAND]
    report = {}
    for name in args.segmenter or [DEFAULT_SEGMENTER]:
        segmenter = load_segmenter(name)
        segmenter.settings = changed_settings(segmenter, args.post_processing)
        counts = [len(photo_items(image, segmenter)) for image in images]
        report[segmenter.version] = {"one_item": sum(c == 1 for c in counts) / len(counts), "items": counts}
        print(segmenter.version, f"one item on {sum(c == 1 for c in counts)} of {len(counts)} photos", counts)
    write_figures(report, args.json)


if __name__ == "__main__":
    main()
