"""Is one way of categorizing really better than another on the same photos? Two runs' per-photo
predictions (`vision.evaluate --predictions CSV`) paired photo by photo: how many each got right that
the other got wrong, and the exact two-sided sign test on those (a difference of a point on a few
hundred photos is often a handful of photos either way).

    python -m bench.paired_predictions BASELINE.csv OTHER.csv [OTHER.csv ...] [--depth leaf|1|2|3] [--json FILE]

Each OTHER is compared with BASELINE on the photos both categorized; a photo is right when its
predicted path names its true one to --depth (as vision.evaluate counts it). bench/README.md, "One
box per product", has the runs.
"""

import argparse
import csv
import os

from scipy.stats import binomtest

from vision.catalogue import parse_path
from vision.figures import write_figures
from vision.scoring import paths_agree


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", help="the predictions compared against")
    parser.add_argument("others", nargs="+", help="predictions of the same photos another way")
    parser.add_argument("--depth", default="leaf", choices=["leaf", "1", "2", "3"],
                        help="compare paths to this depth, or the leaf (default)")
    parser.add_argument("--json")
    return parser


def predictions(path):
    """{photo: (true category, predicted category)} of one --predictions file."""
    with open(path, newline="") as rows:
        return {row["path"]: (parse_path(row["true_path"]), parse_path(row["predicted_path"]))
                for row in csv.DictReader(rows)}


def compared(baseline, other, depth=None):
    """The paired figures of `other` against `baseline` (both as predictions() reads them), on the
    photos both hold; a photo whose true category the two disagree on is an error."""
    photos = sorted(set(baseline) & set(other))
    if not photos:
        raise SystemExit("The two runs share no photo: compare predictions of the same photos.")
    differ = [photo for photo in photos if baseline[photo][0] != other[photo][0]]
    if differ:
        raise SystemExit(f"{len(differ)} photos have another true category in each run (first: {differ[0]}): "
                         "were both made on the same catalogue?")
    base_right = {photo for photo in photos if paths_agree(*baseline[photo], depth)}
    other_right = {photo for photo in photos if paths_agree(*other[photo], depth)}
    gained, lost = len(other_right - base_right), len(base_right - other_right)
    return {
        "photos": len(photos),
        "only_in_baseline_run": len(set(baseline) - set(other)),
        "only_in_this_run": len(set(other) - set(baseline)),
        "baseline_accuracy": len(base_right) / len(photos),
        "accuracy": len(other_right) / len(photos),
        "right_only_here": gained,
        "right_only_in_baseline": lost,
        "same_prediction": sum(baseline[photo][1] == other[photo][1] for photo in photos),
        "sign_test_p": binomtest(gained, gained + lost).pvalue if gained + lost else 1.0,
    }


def summary(name, baseline_name, depth, figures):
    left_out = figures["only_in_baseline_run"] + figures["only_in_this_run"]
    return (f"{name} against {baseline_name}, {figures['photos']} photos in both"
            f"{f' ({left_out} in one only, left out)' if left_out else ''}, "
            f"{'leaf' if depth == 'leaf' else 'depth ' + depth}: "
            f"{100 * figures['accuracy']:.1f} % against {100 * figures['baseline_accuracy']:.1f} %; "
            f"right only in {name} {figures['right_only_here']}, only in {baseline_name} "
            f"{figures['right_only_in_baseline']} (sign test p = {figures['sign_test_p']:.2f}); "
            f"the same prediction on {figures['same_prediction']}")


def main(args):
    depth = None if args.depth == "leaf" else int(args.depth)
    baseline = predictions(args.baseline)
    rows = []
    for path in args.others:
        figures = compared(baseline, predictions(path), depth)
        rows.append({"predictions": os.path.basename(path), **figures})
        print(summary(os.path.basename(path), os.path.basename(args.baseline), args.depth, figures))
    write_figures({"baseline": os.path.basename(args.baseline), "depth": args.depth, "comparisons": rows}, args.json)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
