"""Is one way of categorizing really better than another on the same photos? Two runs' per-photo
predictions (`vision.evaluate --predictions CSV`) paired photo by photo: how many each got right that
the other got wrong, and the exact two-sided sign test on those (a difference of a point on a few
hundred photos is often a handful of photos either way).

    python -m bench.paired_predictions BASELINE.csv OTHER.csv [OTHER.csv ...] [--depth leaf|1|2] [--json FILE]

Each OTHER is compared with BASELINE on the photos both categorized; a photo is right when its
predicted path agrees with its true one to --depth. bench/README.md, "One box per product", has the
runs.
"""

import argparse
import csv
import os

from scipy.stats import binomtest

from vision.catalogue import parse_path
from vision.figures import write_figures


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", help="the predictions compared against")
    parser.add_argument("others", nargs="+", help="predictions of the same photos another way")
    parser.add_argument("--depth", default="leaf", help="compare paths to this depth (1, 2, …) or the leaf")
    parser.add_argument("--json")
    return parser


def predictions(path):
    """{photo: (true path, predicted path)} of one --predictions file."""
    with open(path, newline="") as rows:
        return {row["path"]: (row["true_path"], row["predicted_path"]) for row in csv.DictReader(rows)}


def right(true, predicted, depth):
    """Whether `predicted` names `true`'s category to `depth` (a number of levels, or None: the whole path)."""
    true, predicted = parse_path(true), parse_path(predicted)
    return predicted[:depth] == true[:depth] if depth else predicted == true


def compared(baseline, other, depth=None):
    """The paired figures of `other` against `baseline` (both as predictions() reads them)."""
    photos = sorted(set(baseline) & set(other))
    base_right = {photo for photo in photos if right(*baseline[photo], depth)}
    other_right = {photo for photo in photos if right(*other[photo], depth)}
    gained, lost = len(other_right - base_right), len(base_right - other_right)
    return {
        "photos": len(photos),
        "baseline_accuracy": len(base_right) / len(photos) if photos else None,
        "accuracy": len(other_right) / len(photos) if photos else None,
        "right_only_here": gained,
        "right_only_in_baseline": lost,
        "same_prediction": sum(baseline[photo][1] == other[photo][1] for photo in photos),
        "sign_test_p": binomtest(gained, gained + lost).pvalue if gained + lost else 1.0,
    }


def main(args):
    depth = None if args.depth == "leaf" else int(args.depth)
    baseline = predictions(args.baseline)
    rows = []
    for path in args.others:
        figures = compared(baseline, predictions(path), depth)
        rows.append({"predictions": os.path.basename(path), **figures})
        print(f"{os.path.basename(path)} against {os.path.basename(args.baseline)} ({figures['photos']} photos, "
              f"{args.depth}): {100 * figures['accuracy']:.1f} % against {100 * figures['baseline_accuracy']:.1f} %; "
              f"right only here {figures['right_only_here']}, only there {figures['right_only_in_baseline']} "
              f"(sign test p = {figures['sign_test_p']:.2f}); the same prediction on {figures['same_prediction']}")
    if args.json:
        write_figures({"baseline": os.path.basename(args.baseline), "depth": args.depth, "comparisons": rows},
                      args.json)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
