"""Do photos of other days pay as references and as calibration? Measured on Grocery val.

    python -m bench.new_days_references --backbone grocery_folds --reference $G/train --new-days $G/val
        [--runtime onnx] [--json FILE]

The new-days photos (val: shot on other days than train) are split in two halves by occasion
(vision.splits.cv_folds); each half is measured twice, against an index of the reference tree
alone (as the demo imports it) and against the reference tree plus the other half, the index
calibrated as the app calibrates it (on the references the embedder did not train on: with the
other half, photos of other days among them). The embedder must not have trained on the new-days
photos. Figures: vision.scoring's, the two halves' results pooled.
"""

import argparse
import json

import numpy as np

from vision.calibration import DEFAULT_TARGET_PRECISION
from vision.catalogue import scan_catalogue
from vision.categorize import Categorizer
from vision.experiment import (Embedded, categorize_embedded, embed_catalogue, loaded, make_index,
                               novelty_embedder_for, with_occasions)
from vision.runtimes import RUNTIMES, load_embedder
from vision.scoring import calibration_figures, score
from vision.splits import cv_folds
from vision.vote import VoteConfig


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--reference", required=True, help="the reference tree (Grocery train)")
    parser.add_argument("--new-days", required=True, help="labelled photos of other days (Grocery val)")
    parser.add_argument("--runtime", choices=RUNTIMES, default="onnx")
    parser.add_argument("--json")
    return parser


def joined(first, second):
    """Two Embedded catalogues as one (the second's rows after the first's)."""
    return Embedded(first.images + second.images, np.concatenate([first.vectors, second.vectors]),
                    np.concatenate([first.trained, second.trained]), first.skipped + second.skipped,
                    first.keys + second.keys, novelty=np.concatenate([first.novelty, second.novelty]))


def main(args):
    config = VoteConfig()
    embedder = loaded(load_embedder, args.backbone, args.runtime)
    novelty = loaded(novelty_embedder_for, embedder, None, None, args.runtime)
    references = embed_catalogue(scan_catalogue(args.reference), embedder, embedder.batch_size, "references", novelty)
    new_days = embed_catalogue(scan_catalogue(args.new_days), embedder, embedder.batch_size, "new days", novelty)
    if new_days.trained.any():
        raise SystemExit(f"{args.backbone} trained on {int(new_days.trained.sum())} of the new-days photos.")
    everything = with_occasions(joined(references, new_days))
    offset = len(references.images)
    halves = np.asarray(cv_folds(new_days.images, 2, groups=everything.groups[offset:]))
    results = {"reference tree alone": [], "reference tree and the other half": []}
    for half in (0, 1):
        queries = offset + np.flatnonzero(halves == half)
        other = offset + np.flatnonzero(halves != half)
        for setting, rows in zip(results, (np.arange(offset), np.concatenate([np.arange(offset), other]))):
            index = make_index(everything, rows, embedder, config)
            categorizer = Categorizer(embedder, index, config, DEFAULT_TARGET_PRECISION, novelty)
            results[setting] += categorize_embedded(categorizer, everything, queries)
            print(f"half {half + 1}, {setting}: {len(queries)} queries, {len(rows)} references, calibrated on "
                  f"{index.calibration.source if index.calibration else 'nothing'}")
    figures = {setting: score(found) | calibration_figures(found, DEFAULT_TARGET_PRECISION)
               for setting, found in results.items()}
    for setting, figure in figures.items():
        accept = figure["auto_accept"]
        accuracy = figure["accuracy_by_depth"]
        error = "none" if figure["calibration_error"] is None else f"{figure['calibration_error']:.3f}"
        print(f"{setting}: leaf {accuracy['leaf']:.1%}, depth 2 {accuracy['2']:.1%}, "
              f"calibration error {error}, accepted whole {accept['coverage']:.1%} at "
              f"{accept['precision'] or 0:.1%} (>= {accept['precision_lower_95'] or 0:.1%}), at a parent "
              f"{accept['at_parent_coverage']:.1%} at {accept['at_parent_precision'] or 0:.1%}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"backbone": embedder.weights.version, "figures": figures}, handle, indent=2, default=str)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
