"""Does the blend a detector's fine-tuning chose on its tuning part hold on the catalogue's held-out
photos? Each blend of the fine-tuned network with the detector it started from
(vision.training.detector.SHARES; share 0 is the start as it was), at the threshold chosen for it on
the tuning part, measured on the held-out boxed photos nobody chose on.

    python -m bench.detector_blends --name NAME --init DETECTOR --instances FILE.json [--photos DIR] [--json FILE]

NAME is a run of `manage.py train_detector NAME --init DETECTOR` on FILE.json: the fine-tuned network
is read from its checkpoint (the last epoch, before blending), each share's threshold and tuning
figures from its log (both in ~/.cache/catalog-training/NAME, or --output-dir). Each blend is
measured in half precision, as the chosen one is saved. bench/README.md, "One box per product", has
the runs (`bench/run_items.sh detector-adapt`).
"""

import argparse
import json
import os

import torch

from bench.common import FREIBURG
from vision.figures import write_figures
from vision.training.common import TRAINING_DIR, half_precision
from vision.training.detector import blended, detector_figures, photo_parts, weights_of
from vision.unet import load_segmenter


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="the fine-tuning's run")
    parser.add_argument("--init", required=True, help="the detector it started from")
    parser.add_argument("--instances", required=True, help="the catalogue's COCO instances file it was tuned on")
    parser.add_argument("--photos", default=os.path.join(FREIBURG, "photos"))
    parser.add_argument("--output-dir", help="the run's checkpoint and log (default: ~/.cache/catalog-training/NAME)")
    parser.add_argument("--json")
    parser.set_defaults(limit=None)  # photo_parts reads it
    return parser


def main(args):
    output_dir = args.output_dir or os.path.join(TRAINING_DIR, args.name)
    with open(os.path.join(output_dir, "log.jsonl")) as log:
        choices = [record["blend"] for record in map(json.loads, log) if "blend" in record]
    if not choices:
        raise SystemExit(f"{output_dir}/log.jsonl records no blend: is {args.name} a fine-tuning (--init)?")
    choice = choices[-1]
    tuned = torch.load(os.path.join(output_dir, "checkpoint.pt"), map_location="cpu", weights_only=True)["model"]
    held = photo_parts(args)[2]
    start = load_segmenter(args.init, device="cpu")
    weights = weights_of(start.model)
    rows = {}
    for share, tuning in choice["shares"].items():
        start.model.load_state_dict(half_precision(blended(weights, tuned, float(share))))
        [figures] = detector_figures(start, held, (tuning["threshold"],)).values()
        rows[share] = {"threshold": tuning["threshold"], "tuning": tuning, "held_out": figures}
    write_figures({"held_out_photos": len(held), "chosen": [choice["share"], choice["threshold"]], "rows": rows},
                  args.json)
    print(f"{args.name} on {len(held)} held-out photos (chosen on the tuning part: share {choice['share']} at "
          f"{choice['threshold']}; share 0 is {args.init}):")
    for share, row in rows.items():
        one = row["held_out"]
        print(f"  {share:>5} at {row['threshold']:.2f}: recall {one['item_recall']:.3f} "
              f"({one['n_predicted'] - one['unmatched_items']} of {one['n_products']}), precision "
              f"{one['item_precision']:.3f} ({one['unmatched_items']} of {one['n_predicted']} on none)")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
