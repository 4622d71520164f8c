"""How far two runs of `vision.evaluate` over the same photos agree, photo by photo: the share
that got the same auto-accept decision (outcome), the same decision and category path shown, and
the same best guess; and the photos that differ. Used for ONNX Runtime against PyTorch (issue 36).

    python -m bench.runtime_agreement A.csv B.csv [--json FILE]

A.csv and B.csv are `vision.evaluate --predictions` files.
"""

import argparse
import csv

from vision.figures import write_figures


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--json")
    return parser


def rows(path):
    with open(path, newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def main(args):
    first, second = rows(args.first), rows(args.second)
    common = sorted(first.keys() & second.keys())
    if not common:
        raise SystemExit("The two files share no photo.")

    def share(*fields):
        return sum(all(first[p][f] == second[p][f] for f in fields) for p in common) / len(common)

    figures = {
        "photos": len(common), "only_in_first": len(first.keys() - second.keys()),
        "only_in_second": len(second.keys() - first.keys()),
        "same_outcome": share("outcome"), "same_outcome_and_path_shown": share("outcome", "assigned_path"),
        "same_best_guess": share("predicted_path"),
        "differing": [{"path": p, "first": [first[p]["outcome"], first[p]["assigned_path"], first[p]["confidences"]],
                       "second": [second[p]["outcome"], second[p]["assigned_path"], second[p]["confidences"]]}
                      for p in common if (first[p]["outcome"], first[p]["assigned_path"])
                      != (second[p]["outcome"], second[p]["assigned_path"])],
    }
    print(f"{len(common)} photos: the same decision {figures['same_outcome']:.2%}, the same decision and path "
          f"shown {figures['same_outcome_and_path_shown']:.2%}, the same best guess {figures['same_best_guess']:.2%}")
    for one in figures["differing"]:
        print(f"  {one['path']}: {one['first']} | {one['second']}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
