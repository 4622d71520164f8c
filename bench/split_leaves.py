"""Split a folder-tree catalogue's leaves into two halves, as folder trees of symbolic links.

    python -m bench.split_leaves --train TRAIN_DIR --val VAL_DIR [--extra DIR] --out DIR

Leaves are sorted by path and dealt alternately to halves A and B, so both halves hold every
top-level category. Writes OUT/A/train, OUT/A/val, OUT/B/train, OUT/B/val (and OUT/A/extra,
OUT/B/extra from --extra, e.g. the iconic packshots the training recipe also learns from). Used to
check that an embedder adapted on half A is no worse than the frozen one on half B, which it never
saw.
"""

import argparse
import os

from bench.common import link_tree
from vision.catalogue import scan_catalogue


def main(args):
    trees = {"train": scan_catalogue(args.train), "val": scan_catalogue(args.val)}
    if args.extra:
        trees["extra"] = scan_catalogue(args.extra)
    leaves = sorted({image.category for image in trees["train"]})
    halves = {"A": set(leaves[0::2]), "B": set(leaves[1::2])}
    for half, half_leaves in halves.items():
        for part, images in trees.items():
            link_tree(images, os.path.join(args.out, half, part), half_leaves)
        print(f"{half}: {len(half_leaves)} leaves")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True)
    parser.add_argument("--val", required=True)
    parser.add_argument("--extra", help="more labelled images in the same tree shape, split the same way")
    parser.add_argument("--out", required=True)
    main(parser.parse_args())
