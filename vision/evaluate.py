"""Measure categorization on a folder-tree catalogue, honestly.

    python -m vision.evaluate --reference DIR [DIR ...] --queries DIR [--outside DIR] [--json FILE] [--predictions CSV]
    python -m vision.evaluate --reference DIR --cv K [--holdout-fraction F] [--outside DIR] [...]
    python -m vision.evaluate --reference DIR --holdout-fraction F [--segmenter NAME] [...]

Several --reference trees are one catalogue, as import_catalog imports them (a photo in two of
them once): the demo's index is Grocery train and val. With --queries, the index is every
reference and the queries are categorized through the same
Categorizer the worker uses (with --segmenter, their main item, as the worker finds it).
With --cv K, the reference tree is its own test: stratified K-fold cross-validation, every leaf
with K occasions in every fold's queries, photos of one occasion (near-duplicate bursts,
vision.splits) in one fold, each fold categorized against an index of the rest, calibrated on
the rest alone. Only photos the embedder did not train on are ever queries: a trained embedder
records its training photos, CV folds leave them out, and --queries that overlap them are refused
(--allow-seen measures anyway and says so). --holdout-fraction F takes CV's queries from the
stratified part the training script held out with the same fraction; without --cv, that part is
categorized once against the rest of the tree, like --queries (so --segmenter works with it).

Each index is calibrated as the app calibrates it (vision.calibration), so the figures include
calibration_error (expected calibration error of the leaf confidence, 10 equal-width bins, and
per depth; null where no answer was calibrated), coverage_at_precision (the largest share of
queries whose leaf answers, most confident first, reach each precision), auto_accept (coverage
and precision of what the index's own thresholds accept at --target-precision) and, with
--outside (photos of things that are not in the catalogue), how well "not in the catalogue"
separates them.
"""

import argparse
import csv
import os
import sys

from .catalogue import format_path
from .experiment import add_experiment_arguments, run
from .figures import reliability_diagram, write_figures
from .scoring import CALIBRATION_BINS, answer_right, confidence_pairs, worst_classes


def get_args_parser():
    return add_experiment_arguments(
        argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))


def print_report(figures, worst):
    accuracy = figures["accuracy_by_depth"]
    print(f"backbone            {figures['backbone']}")
    print(f"protocol            {figures['protocol']}")
    print(f"references/queries  {figures['n_reference']} / {figures['n_queries']}")
    for key, label in (("1", "depth 1"), ("2", "depth 2"), ("leaf", "leaf")):
        print(f"accuracy {label:<10} {accuracy[key]:.1%}")
    print(f"abstain rate        {figures['abstain_rate']:.1%}")
    print(f"assigned accuracy   {figures['assigned_accuracy']:.1%}")
    if not figures["calibrated_share"]:
        # An error of 0.000 would read as a perfect calibration where there is none at all.
        print("calibration         none: the index held too few references the embedder never trained on (or its "
              "fold predictions cover) to calibrate on, so no photo is accepted automatically (train with "
              "--holdout-fraction, or audit)")
    else:
        share = figures["calibrated_share"]
        print(f"calibration error   {figures['calibration_error']:.3f} (leaf; by depth "
              + ", ".join(f"{k}: {v:.3f}" for k, v in figures["calibration_error_by_depth"].items()) + ")"
              + (f", {share:.0%} of the queries calibrated" if share < 1 else ""))
    print("coverage at precision " + ", ".join(f"{p}: {c:.1%}" for p, c in figures["coverage_at_precision"].items()))
    auto = figures["auto_accept"]
    precision = "-" if auto["precision"] is None else f"{auto['precision']:.1%}"
    print(f"auto-accept at {auto['target_precision']:.0%}  coverage {auto['coverage']:.1%}, precision {precision}"
          f"; at a parent {auto['at_parent_coverage']:.1%}")
    if figures.get("audit"):
        audit = figures["audit"]
        for when in ("before", "after"):
            print(f"audit {when:<6} {audit['audited']} labelled: {_acceptance(audit[when])}")
    if figures.get("outside"):
        outside = figures["outside"]
        print(f"outside             flagged {outside['flagged_rate']:.1%} of {outside['n_outside']}, "
              f"inside flagged {outside['inside_flagged_rate']:.1%}, AUROC {outside['auroc']:.3f}")
    if figures["seen_queries"]:
        print(f"WARNING: {figures['seen_queries']} queries were photos the embedder trained on")
    print(f"images/s            {figures['images_per_second']:.1f}")
    print("worst classes (leaf accuracy, queries, most confused with):")
    for accuracy_, n, truth, confused in worst:
        other = format_path(confused) if confused else "-"
        print(f"  {accuracy_:6.1%} {n:4d}  {format_path(truth)}  →  {other}")


def _acceptance(auto):
    """Automatic acceptance in one line: whole paths (precision, its 95 % lower bound), at a parent."""
    def share(value):
        return "-" if value is None else f"{value:.1%}"

    return (f"coverage {share(auto['coverage'])} at {share(auto['precision'])} "
            f"(≥ {share(auto['precision_lower_95'])}); "
            f"at a parent {share(auto['at_parent_coverage'])} at {share(auto['at_parent_precision'])}")


def write_predictions(results, path):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "true_path", "assigned_path", "predicted_path", "confidences", "top_similarity",
                         "outcome", "correct"])
        for r in results:
            writer.writerow([r.path, format_path(r.truth), format_path(r.decision.path),
                             format_path(r.decision.predicted),
                             ";".join(f"{c:.4f}" for c in r.decision.predicted_confidences),
                             f"{r.decision.top_similarity:.4f}", r.decision.outcome, int(answer_right(r))])


def main(args):
    evaluation = run(args)
    figures, results = evaluation.figures, evaluation.results
    print_report(figures, worst_classes(results))
    for path, reason in evaluation.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    write_figures(figures, args.json)
    if args.json:
        title = f"{figures['backbone']}: {figures['protocol']}"
        reliability_diagram(confidence_pairs(results), CALIBRATION_BINS, title,
                            os.path.splitext(args.json)[0] + "-reliability.png")
    if args.predictions:
        write_predictions(results, args.predictions)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
