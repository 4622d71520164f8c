"""The calibration of an embedder trained on every labelled photo: what its fold models, trained
without a part of those photos, found near each photo of that part (vision.fold_predictions).

    python -m vision.training.fold_predictions --fold NAME [--fold NAME ...] --catalogue DIR [--catalogue DIR ...]
        --out vision/weights/NAME.folds.npz [--neighbours 100] [--runtime onnx --onnx-dir DIR]

Each photo of the catalogues is asked of the first --fold embedder that did not train on it (none:
the photo is left out), against every other photo of the catalogues but those of its occasion
(vision.splits, found in the frozen features as an index finds them): what the index's own
calibration does for a reference its embedder never saw. The --neighbours nearest are kept, by
content key, so that an index holding fewer of these photos (train alone, say) still finds
enough of them among its own. The embedder it calibrates names the file in its weights description
(an ensemble's "fold_predictions"). The command that made the shipped file is in README.md.
"""

import argparse
import os
import sys
from dataclasses import replace

import faiss
import numpy as np

from vision.catalogue import scan_catalogue
from vision.content_keys import key_number
from vision.experiment import embed_catalogue, loaded, with_occasions
from vision.fold_predictions import FoldPredictions
from vision.onnx_runtime import EXPORT_HINT
from vision.runtimes import RUNTIMES, load_embedder
from vision.splits import grouping_embedder

NEIGHBOURS = 100


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fold", action="append", required=True,
                        help="a fold embedder: the shipped recipe trained without a part of the photos")
    parser.add_argument("--catalogue", action="append", required=True, help="a folder tree of labelled photos")
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--neighbours", type=int, default=NEIGHBOURS, help="kept for each photo")
    parser.add_argument("--runtime", choices=RUNTIMES, default="onnx")
    parser.add_argument("--onnx-dir", help="where the fold embedders' ONNX files are, each of them (default: beside "
                                            "the weights, else the shipped ones)")
    parser.add_argument("--batch-size", type=int)
    return parser


def fold_neighbours(embedded, asked, count):
    """(neighbour positions (n, count), -1 where fewer; their similarities) of the photos at
    `asked`, among every embedded photo but those of its occasion and copies of it."""
    index = faiss.IndexFlatIP(embedded.vectors.shape[1])
    index.add(np.ascontiguousarray(embedded.vectors, np.float32))
    _, sizes = np.unique(embedded.groups, return_counts=True)
    similarities, found = index.search(embedded.vectors[asked], min(count + int(sizes.max()) + 1, len(embedded.keys)))
    positions = np.full((len(asked), count), -1, np.int64)
    kept_similarities = np.zeros((len(asked), count), np.float32)
    for i, (row, sims, rows) in enumerate(zip(asked, similarities, found)):
        kept = [(r, s) for r, s in zip(rows.tolist(), sims.tolist())
                if r >= 0 and embedded.groups[r] != embedded.groups[row] and embedded.keys[r] != embedded.keys[row]]
        kept = kept[:count]
        positions[i, :len(kept)] = [r for r, _ in kept]
        kept_similarities[i, :len(kept)] = [s for _, s in kept]
    return positions, kept_similarities


def main(args):
    # A fold embedder missing from --onnx-dir is not looked for elsewhere (onnx_path would find a
    # shipped file of its name): the directory named is the one measured.
    missing = [name for name in args.fold if args.runtime == "onnx" and args.onnx_dir
               and not os.path.exists(os.path.join(args.onnx_dir, f"{name}.onnx"))]
    if missing:
        command = EXPORT_HINT.format(name=" ".join(missing), directory=args.onnx_dir)
        raise SystemExit(f"--onnx-dir {args.onnx_dir} has no {', '.join(name + '.onnx' for name in missing)}: "
                         f"make it there with `{command}`.")
    images = [image for folder in args.catalogue for image in scan_catalogue(folder)]
    grouping = loaded(grouping_embedder, None, args.batch_size, args.runtime)
    frozen = embed_catalogue(images, grouping, grouping.batch_size, "occasions")
    groups = with_occasions(frozen).groups
    numbers = np.array([key_number(key) for key in frozen.keys] + [0], np.uint64)  # -1 reads the 0: none
    asked, neighbours, similarities, sources = [], [], [], []
    for name in args.fold:
        embedder = loaded(load_embedder, name, args.runtime, onnx_dir=args.onnx_dir, batch_size=args.batch_size)
        embedded = replace(embed_catalogue(frozen.images, embedder, embedder.batch_size, name), groups=groups)
        if [image.path for image in embedded.images] != [image.path for image in frozen.images]:
            raise SystemExit(f"{name} could not read every photo the grouping backbone read.")
        new = np.setdiff1d(np.flatnonzero(~embedded.trained), asked).astype(np.int64)
        positions, sims = fold_neighbours(embedded, new, args.neighbours)
        asked.extend(new.tolist())
        neighbours.append(numbers[positions])
        similarities.append(sims)
        sources.append(f"{embedder.weights.version} on the {len(new)} photos it did not train on")
        print(f"{name}: {len(new)} of {len(embedded.keys)} photos", file=sys.stderr)
    folds = FoldPredictions(numbers[np.asarray(asked, np.int64)], np.concatenate(neighbours),
                            np.concatenate(similarities),
                            "; ".join(sources) + f", of {len(frozen.keys)} photos of "
                            + ", ".join(os.path.basename(os.path.normpath(c)) for c in args.catalogue))
    folds.save(args.out)
    size = os.path.getsize(args.out) / 1e6
    print(f"{args.out}: {len(folds)} photos, {args.neighbours} neighbours each ({size:.1f} MB)")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
