"""Does the text on a product help? Grocery accuracy by top-level category with and without the
text read on each photo re-ranking the visual vote (vision.text, VoteConfig.text_weight).

    python -m bench.text_rerank --words-train TRAIN.json --words-val VAL.json \
        [--backbone grocery_folds] [--cache DIR] [--json bench/results/text-rerank.json]

The words come from `python -m vision.read_text DIR --json FILE` over Grocery train and val. The text
weight, what else a category's profile holds (DESCRIPTIONS) and the lowest OCR score kept are
chosen on the held-out fifth of train (the photos no member of `grocery_folds`, the recipe as measured
on folds, trained on;
whole occasions, every leaf), voted against an index of the rest of train whose text profiles
are made of the words read on those references; the choice is then reported on val, against an
index of all of train. Embeddings are cached in --cache (outside the clone): a second run only
votes.
"""

import argparse
import json
import math
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from vision.backbones import get_backbone
from vision.catalogue import scan_catalogue
from vision.embedder import Embedder
from vision.experiment import embed_catalogue
from vision.index import ReferenceIndex
from vision.text import TextProfiles, words_of, words_read
from vision.vote import VoteConfig, vote

GROCERY = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "grocery-store" / "dataset"
WEIGHTS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
# Where the text may move the answer: among the categories the neighbours voted for (as
# vision.vote does with text_similarities), or only among the leaves under the parent the picture
# chose (the look-alike variants), so that text can never move an item to another branch.
MODES = ("neighbours", "siblings")
MIN_SCORES = (0.5, 0.8)
# What a category's profile holds beside the words read on its references: nothing, its product
# title and brand (from *_Information.txt), or every description text the catalogue has.
DESCRIPTIONS = ("none", "titles", "all")


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words-train", required=True)
    parser.add_argument("--words-val", required=True)
    parser.add_argument("--backbone", default="grocery_folds")
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/catalog-bench"))
    parser.add_argument("--json")
    return parser


def embedded(split, embedder, cache):
    """(images, vectors, trained) of a Grocery split, from the cache when it has them."""
    images = scan_catalogue(GROCERY / split)
    path = Path(cache) / f"{split}-{embedder.weights.version}.npz".replace("/", "_")
    if path.exists():
        stored = np.load(path)
        return images, stored["vectors"], stored["trained"]
    result = embed_catalogue(images, embedder, embedder.batch_size, split)
    assert not result.skipped, result.skipped
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, vectors=result.vectors, trained=result.trained)
    return images, result.vectors, result.trained


def descriptions(kind):
    """{category: words} from the catalogue's own product information (see DESCRIPTIONS)."""
    found = {}
    root = GROCERY / "iconic-images-and-descriptions"
    for folder in (path for path in root.rglob("*") if path.is_dir()):
        if kind == "all":
            text = " ".join(path.read_text(errors="replace") for path in folder.glob("*.txt"))
        elif kind == "titles":
            text = " ".join(line.split(":", 1)[1].split(",")[0] for path in folder.glob("*_Information.txt")
                            for line in path.read_text(errors="replace").splitlines()
                            if line.startswith(("Title:", "Manufacturer and volume:")))
        else:
            text = ""
        if text:
            found[tuple(folder.relative_to(root).parts)] = words_of(text)
    return found


def profiles(images, rows, lines, min_score, described):
    read = [(images[row].category, words_read(lines[_key(images[row])], min_score)) for row in rows]
    present = {category for category, _ in read}
    return TextProfiles.of_references(read + [(category, extra) for category, extra in described.items()
                                              if category in present])


def _key(image):
    parts = Path(image.path).parts
    return str(Path(*parts[parts.index("dataset") + 2:]))


def predict(neighbours, similarities, weight, mode, leaves_under):
    if mode == "neighbours":
        return vote(neighbours, VoteConfig(text_weight=weight), similarities).predicted
    assignment = vote(neighbours)
    predicted = assignment.predicted
    if not similarities or not weight:
        return predicted
    variants = leaves_under[predicted[:-1]]
    return max(variants, key=lambda leaf: assignment.node_confidence.get(leaf, 0.0)
               * math.exp(weight * similarities.get(leaf, 0.0)))


def scores(query_images, query_vectors, query_lines, reference_images, reference_vectors, rows, weight, min_score,
           described, dimension, mode="neighbours"):
    index = ReferenceIndex(dimension, "bench", "bench")
    index.add(reference_vectors[rows], [reference_images[r].category for r in rows], rows)
    text = profiles(reference_images, rows, query_lines["references"], min_score, described)
    leaves_under = defaultdict(set)
    for row in rows:
        leaves_under[reference_images[row].category[:-1]].add(reference_images[row].category)
    right = defaultdict(lambda: defaultdict(int))
    for image, neighbours in zip(query_images, index.search(query_vectors, VoteConfig.k)):
        similarities = text.similarities(words_read(query_lines["queries"][_key(image)], min_score))
        predicted = predict(neighbours, similarities, weight, mode, leaves_under)
        top = image.category[0]
        right[top]["photos"] += 1
        right[top]["1"] += predicted[:1] == image.category[:1]
        right[top]["2"] += predicted[:2] == image.category[:2]
        right[top]["leaf"] += predicted == image.category
    by_subtree = {top: {level: round(counts[level] / counts["photos"], 4) for level in ("1", "2", "leaf")}
                  | {"photos": counts["photos"]} for top, counts in sorted(right.items())}
    total = sum(counts["photos"] for counts in right.values())
    overall = {level: round(sum(counts[level] for counts in right.values()) / total, 4) for level in ("1", "2", "leaf")}
    return {"overall": overall, "accuracy_by_subtree": by_subtree}


def main(args):
    embedder = Embedder(get_backbone(args.backbone))
    train, train_vectors, trained = embedded("train", embedder, args.cache)
    val, val_vectors, _ = embedded("val", embedder, args.cache)
    words_train = json.loads(Path(args.words_train).read_text())
    words_val = json.loads(Path(args.words_val).read_text())
    held_out, rest = np.flatnonzero(~trained), np.flatnonzero(trained)
    held_out_images = [train[i] for i in held_out]
    report = {"backbone": embedder.weights.version, "held_out_fifth": {}, "val": {}}
    for mode in MODES:
        for kind in DESCRIPTIONS:
            described = descriptions(kind)
            for min_score in MIN_SCORES:
                for weight in WEIGHTS:
                    label = f"mode={mode} descriptions={kind} min_score={min_score} text_weight={weight}"
                    figures = scores(held_out_images, train_vectors[held_out],
                                     {"references": words_train, "queries": words_train}, train, train_vectors, rest,
                                     weight, min_score, described, embedder.dimension, mode)
                    report["held_out_fifth"][label] = figures
                    print("held-out", label, figures["overall"], figures["accuracy_by_subtree"].get("Packages"),
                          flush=True)
    # Chosen per mode on the held-out fifth (the best leaf accuracy there), then measured on val.
    report["chosen_on_held_out_fifth"] = {}
    report["val"]["without text"] = scores(val, val_vectors, {"references": words_train, "queries": words_val}, train,
                                           train_vectors, np.arange(len(train)), 0.0, MIN_SCORES[0], {},
                                           embedder.dimension)
    for mode in MODES:
        chosen = max((label for label in report["held_out_fifth"] if label.startswith(f"mode={mode} ")),
                     key=lambda label: report["held_out_fifth"][label]["overall"]["leaf"])
        report["chosen_on_held_out_fifth"][mode] = chosen
        settings = dict(part.split("=") for part in chosen.split())
        report["val"][f"with text ({chosen})"] = scores(
            val, val_vectors, {"references": words_train, "queries": words_val}, train, train_vectors,
            np.arange(len(train)), float(settings["text_weight"]), float(settings["min_score"]),
            descriptions(settings["descriptions"]), embedder.dimension, mode)
    for label, figures in report["val"].items():
        print("val", label, figures["overall"], figures["accuracy_by_subtree"], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main(get_args_parser().parse_args())
