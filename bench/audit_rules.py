"""How the threshold refit's two settings trade coverage for a kept promise (vision.audits).

One measurement as `vision.evaluate` makes it (the same options: --cv K --holdout-fraction F for
the held-out fifth, --queries DIR for photos of other days), then the offline audit loop for every
pair of AUDIT_WEIGHT and POSTERIOR_RISK in the grids, each over --seeds orders of the queries, and
the thresholds of the calibration alone under each risk (--audit 0, as an app without audits yet
would use them). Prints a table and writes the figures, averaged over the seeds, as JSON.

    python -m bench.audit_rules --backbone grocery_lite0 --reference $G/train --cv 5 --holdout-fraction 0.2 \\
        --audit 150 --json bench/results/audit-rules-grocery_lite0-holdout.json
"""

import argparse
import json

import numpy as np

from vision.audits import redecided, refit_thresholds, simulate
from vision.experiment import add_experiment_arguments, run
from vision.scoring import auto_accept_figures

WEIGHTS = (1.0, 2.0, 4.0)
RISKS = (0.05, 0.2, 0.5)
KEYS = ("coverage", "precision", "precision_lower_95", "at_parent_coverage", "at_parent_precision")


def get_args_parser():
    parser = add_experiment_arguments(argparse.ArgumentParser(description=__doc__,
                                                              formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--seeds", type=int, default=10, help="orders of the queries each setting is averaged over")
    return parser


def mean_figures(runs):
    """Each figure's mean over the runs that have it (a precision is None where nothing was accepted)."""
    return {key: float(np.mean([r[key] for r in runs if r[key] is not None])) if any(r[key] is not None for r in runs)
            else None for key in KEYS}


def without_audits(by_calibration, target, risk):
    """Acceptance of every query under the calibration's own predictions alone, chosen at `risk`."""
    results = []
    for calibration, fold_results in by_calibration:
        top_levels = {result.decision.predicted[0] for result in fold_results if result.decision.predicted}
        thresholds = refit_thresholds(calibration, [], target, top_levels, risk=risk)
        results += [redecided(result, calibration, target, thresholds) for result in fold_results]
    return auto_accept_figures(results)


def main(args):
    evaluation = run(args)
    by_calibration = evaluation.by_calibration
    target = args.target_precision
    shipped = {k: evaluation.figures["auto_accept"][k] for k in KEYS}
    rows = [{"setting": "as shipped (the calibration's thresholds)", **shipped}]
    rows += [{"setting": f"no audits, risk {risk}", **without_audits(by_calibration, target, risk)} for risk in RISKS]
    for weight in WEIGHTS:
        for risk in RISKS:
            runs = [simulate(by_calibration, args.audit, seed, target, audit_weight=weight, risk=risk)
                    for seed in range(args.seeds)]
            rows.append({"setting": f"--audit {args.audit}, weight {weight}, risk {risk}: before",
                         **mean_figures([r["before"] for r in runs])})
            rows.append({"setting": f"--audit {args.audit}, weight {weight}, risk {risk}: after",
                         **mean_figures([r["after"] for r in runs])})
    for row in rows:
        print(f"{row['setting']:<48} " + "  ".join(f"{k} {'-' if row[k] is None else f'{row[k]:.3f}'}" for k in KEYS))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"backbone": evaluation.figures["backbone"], "protocol": evaluation.figures["protocol"],
                       "calibration_error": evaluation.figures["calibration_error"],
                       "largest_confidence_tie": evaluation.figures["largest_confidence_tie"],
                       "target_precision": target, "audit": args.audit, "seeds": args.seeds, "rows": rows},
                      handle, indent=2)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
