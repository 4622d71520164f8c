"""Choose the segmenter's post-processing on validation composites: item precision, recall and
touching pairs split for each foreground threshold and peak height.

    python -m bench.tune_post_processing [--segmenter NAME] [--composites 200] [--seed 1000] [--json FILE]

The network runs once per composite; only the post-processing is repeated. Tune on a seed the
reported figures do not use: 1000, which segmentation training also chooses its epoch on
(`vision.evaluate_segmentation --seed` defaults to 2000, as the reported figures use).
"""

import argparse
import json
from dataclasses import replace

import numpy as np

from vision.composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator
from vision.segment import UNET_SEGMENTER, find_items
from vision.segmenter_figures import item_counts, item_figures
from vision.unet import load_segmenter

THRESHOLDS = (0.4, 0.5, 0.6)
PEAK_HEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", default=UNET_SEGMENTER)
    parser.add_argument("--composites", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--json")
    args = parser.parse_args()
    segmenter = load_segmenter(args.segmenter)
    generator = composite_generator(DEFAULT_CUT_OUTS, DEFAULT_ECSSD, args.size, args.seed)
    composites = [generator(index) for index in range(args.composites)]
    predicted = [(composite, segmenter.predict(composite.image)) for composite in composites]
    rows = []
    for threshold in THRESHOLDS:
        for peak_height in PEAK_HEIGHTS:
            settings = replace(segmenter.settings, threshold=threshold, peak_height=peak_height)
            counts = sum((item_counts([item.box for item in find_items(*maps, settings)], composite)
                          for composite, maps in predicted), np.zeros(5, int))
            rows.append({"threshold": threshold, "peak_height": peak_height} | item_figures(counts))
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"segmenter": segmenter.version, "seed": args.seed, "composites": args.composites,
                       "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
