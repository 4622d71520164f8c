"""Choose how items are found on real photos, on photos the reported figures never use.

    python -m bench.tune_real_items --segmenter NAME [--segmenter NAME ...] [--sample 300] [--json FILE]

The tuning photos are a spread sample of the Freiburg photos *outside* the held-out part that
`vision.evaluate_items --holdout-fraction 0.2` reports on; they are categorized against every
other photo outside it. (A segmenter trained with --instances saw them in training, so its
figures here are flattered; they serve to compare settings, not to report.) For each segmenter the
network runs once per photo; then each post-processing setting gives item recall and precision,
and the best by F1 is run the worker's whole way, with items unlike the catalogue dropped or kept.
"""

import argparse
import itertools
import json
import os
from dataclasses import replace

from bench.common import FREIBURG, box_counts, f1, tuning_photos
from vision.content_keys import content_key
from vision.figures import write_figures
from vision.images import load_image
from vision.items import categorize_photos, categorizer_of, embedded_references, figures_by_kind
from vision.segment import Segmenter
from vision.unet import load_segmenter

GRID = {
    "peak_height": (0.15, 0.3, 0.5),
    "merge_inside": (None, 0.8, 0.6),
    "min_share": (0.0, 0.1, 0.25),
}


class RememberedMaps(Segmenter):
    """A segmenter whose network ran once per photo: post-processing settings are tried on its maps."""

    def __init__(self, segmenter, images):
        self.version, self.input_size, self.settings = segmenter.version, segmenter.input_size, segmenter.settings
        self.maps = {id(image): segmenter.predict(image) for image in images}

    def predict_many(self, images, sizes=None):
        # segment_many asks for the maps of several photos at once; each was predicted before.
        return [self.maps[id(image)] for image in images]


def unet_segmenter(name):
    segmenter = load_segmenter(name)
    if segmenter.finds_instances:
        raise SystemExit(f"{name} is a product detector: its score threshold is chosen in training "
                         "(vision/training/README.md) and its rules by bench.detector_rules; this tunes a UNet's "
                         "post-processing.")
    return segmenter


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segmenter", action="append", required=True)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--holdout-fraction", type=float, default=0.2)
    parser.add_argument("--json")
    args = parser.parse_args()
    segmenters = [unet_segmenter(name) for name in args.segmenter]  # before the references' minutes of embedding
    settings_args = argparse.Namespace(reference=os.path.join(FREIBURG, "photos"), backbone="efficientnet_lite0",
                                       runtime="torch", device=None, batch_size=None)
    embedder, novelty_embedder, references = embedded_references(settings_args)
    photos, held_keys = tuning_photos(references, args.sample, args.holdout_fraction)
    left_out = held_keys | {content_key(photo.path) for photo in photos}
    rows = [row for row, image in enumerate(references.images) if content_key(image.path) not in left_out]
    categorizer = categorizer_of(embedder, novelty_embedder, references, rows, 0.98)
    images = [load_image(photo.path) for photo in photos]
    report = {"photos": len(photos), "references": len(rows), "segmenters": {}}
    for name, loaded in zip(args.segmenter, segmenters):
        segmenter = RememberedMaps(loaded, images)
        grid = []
        for values in itertools.product(*GRID.values()):
            segmenter.settings = replace(segmenter.settings, **dict(zip(GRID, values)))
            counts = box_counts(segmenter, images, photos)
            grid.append(dict(zip(GRID, values)) | {"recall": counts[2] / counts[0], "precision": counts[2] / counts[1],
                                                   "f1": f1(counts)})
            print(name, json.dumps(grid[-1]), flush=True)
        best = max(grid, key=lambda row: row["f1"])
        segmenter.settings = replace(segmenter.settings, **{key: best[key] for key in GRID})
        whole_way = {}
        for drop_unlike in (True, False):
            counts, _, _ = categorize_photos(categorizer, segmenter, photos, drop_unlike, images)
            whole_way["dropped" if drop_unlike else "kept"] = figures_by_kind(counts)
            print(name, "unlike items", "dropped" if drop_unlike else "kept",
                  json.dumps({k: v for k, v in whole_way[list(whole_way)[-1]].items() if not isinstance(v, dict)}))
        report["segmenters"][segmenter.version] = {"grid": grid, "best": best, "unlike_items": whole_way}
    write_figures(report, args.json)


if __name__ == "__main__":
    main()
