"""Write a catalogue's fixed held-out part, and the rest, as folder trees of symbolic links.

    python -m bench.holdout_tree --data DIR --out DIR [--fraction 0.2] [--per-leaf N]

OUT/holdout is the part that `train_embedder --holdout-fraction F` and `vision.evaluate --cv K
--holdout-fraction F` hold out (the same split: whole occasions, every leaf); OUT/train is the
rest or, with --per-leaf N, only N of each leaf's photos (a fixed choice), to stand for a small
catalogue. Training on OUT/train and measuring with `--queries OUT/holdout` then tells whether
training pays for a catalogue of that size, on photos no run has seen.
"""

import argparse
import os
from collections import defaultdict

from bench.common import link_tree
from vision.catalogue import scan_catalogue
from vision.content_keys import content_key
from vision.splits import holdout_split, photo_occasions


def first_per_leaf(images, count):
    """`count` photos of every leaf, the same ones on every run (ordered by content)."""
    by_leaf = defaultdict(list)
    for image in sorted(images, key=lambda image: content_key(image.path)):
        by_leaf[image.category].append(image)
    return [image for leaf in by_leaf.values() for image in leaf[:count]]


def main(args):
    images = scan_catalogue(args.data)
    kept, held_out = holdout_split(images, args.fraction, args.split_seed, photo_occasions(images, runtime="torch"))
    if args.per_leaf:
        kept = first_per_leaf(kept, args.per_leaf)
    leaves = {image.category for image in images}
    link_tree(kept, os.path.join(args.out, "train"), leaves)
    link_tree(held_out, os.path.join(args.out, "holdout"), leaves)
    print(f"train: {len(kept)} photos, holdout: {len(held_out)} photos, {len(leaves)} leaves")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the catalogue (folder tree)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--fraction", type=float, default=0.2, help="the held-out fraction")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--per-leaf", type=int, help="keep only this many training photos of each leaf")
    main(parser.parse_args())
