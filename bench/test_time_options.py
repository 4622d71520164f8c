"""Measure test-time options on a catalogue, each against the plain kNN vote.

    python -m bench.test_time_options --backbone NAME --reference DIR --queries DIR
        [--sizes 224,288] [--json FILE]

Options: the input size; horizontal-flip averaging; multi-scale averaging (the sizes' embeddings
summed); query expansion and database-side augmentation (an embedding averaged with its nearest
references'); and a class-centroid or linear-head (the heatmap head, vision.cam) score added to
the kNN confidences at every level. Every option is scored like vision.evaluate: accuracy at
depth 1, depth 2 and leaf (the most confident referenced category). References and queries are
embedded once per size, with their mirror images; the options work on those embeddings.
"""

import argparse
import json
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from vision.backbones import get_backbone
from vision.cam import train_head
from vision.catalogue import scan_catalogue
from vision.embedder import Embedder
from vision.images import load_in_batches
from vision.scoring import score
from vision.vote import Neighbour, VoteConfig, vote

EXPANSION_NEIGHBOURS = 2
SCORE_WEIGHT = 0.5


def normalised(features):
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def pooled_features(embedder, images):
    """(readable images, the average-pooled feature map of each, the same of its mirror image)."""
    kept, plain, mirrored = [], [], []
    for readable, batch, _ in load_in_batches(images, 32):
        flipped = [image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for image in batch]
        plain.append(embedder.forward(batch).feature_maps.mean(dim=(2, 3)).numpy())
        mirrored.append(embedder.forward(flipped).feature_maps.mean(dim=(2, 3)).numpy())
        kept.extend(readable)
    return kept, np.concatenate(plain), np.concatenate(mirrored)


def embed_at(backbone, size, references, queries):
    """{"references"/"queries": (plain, mirrored)} at `size` pixels, and the readable images."""
    sized = get_backbone(backbone)
    sized.weights = replace(sized.weights, resize_size=size, crop_size=size)
    embedder = Embedder(sized)
    kept_references, *reference_features = pooled_features(embedder, references)
    kept_queries, *query_features = pooled_features(embedder, queries)
    return kept_references, kept_queries, {"references": reference_features, "queries": query_features}


def averaged_with_neighbours(vectors, references, count):
    """Each vector plus its `count` nearest references (query expansion / database-side augmentation)."""
    nearest = np.argsort(-(vectors @ references.T), axis=1)[:, :count]
    return normalised(vectors + references[nearest].sum(axis=1))


def centroid_probabilities(R, labels, Q, categories, temperature):
    centroids = normalised(np.stack([R[labels == k].mean(axis=0) for k in range(len(categories))]))
    return softmax(Q @ centroids.T / temperature)


def head_probabilities(R, labels, Q, categories):
    head = train_head(R, labels, len(categories))
    return softmax(Q @ head.weights.T + head.bias)


def softmax(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def figures(reference_categories, query_categories, R, Q, extra=None, categories=(), config=VoteConfig()):
    """vision.evaluate's figures; `extra` (queries × categories), weighted, joins every level's confidence."""
    similarities = Q @ R.T
    nearest = np.argsort(-similarities, axis=1)[:, :config.k]
    results = []
    for i, (truth, row) in enumerate(zip(query_categories, nearest)):
        assignment = vote([Neighbour(int(j), reference_categories[j], float(similarities[i, j])) for j in row], config)
        if extra is not None:
            assignment = with_extra_score(assignment, categories, SCORE_WEIGHT * extra[i])
        results.append((truth, assignment))
    accuracy = score(results)["accuracy_by_depth"]
    return {"depth_1": accuracy["1"], "depth_2": accuracy["2"], "leaf": accuracy["leaf"]}


def with_extra_score(assignment, categories, extra):
    confidence = dict.fromkeys({c[:d] for c in categories for d in range(1, len(c) + 1)}, 0.0)
    confidence.update(assignment.node_confidence)
    for category, p in zip(categories, extra):
        for depth in range(1, len(category) + 1):
            confidence[category[:depth]] += p
    best = max(categories, key=confidence.get)
    return replace(assignment, node_confidence=confidence, best_category=best)


def main(args):
    references, queries = scan_catalogue(args.reference), scan_catalogue(args.queries)
    sizes = [int(size) for size in args.sizes.split(",")]
    embedded = {size: embed_at(args.backbone, size, references, queries) for size in sizes}
    kept_references, kept_queries, _ = embedded[sizes[0]]
    reference_categories = [r.category for r in kept_references]
    query_categories = [q.category for q in kept_queries]
    categories = sorted(set(reference_categories))
    labels = np.array([categories.index(c) for c in reference_categories])
    results = {}

    def measure(name, R, Q, extra=None):
        results[name] = figures(reference_categories, query_categories, R, Q, extra, categories)
        print(f"{name:42s} " + "  ".join(f"{k} {v:.1%}" for k, v in results[name].items()), flush=True)

    def features(size, part, flip=False):
        plain, mirrored = embedded[size][2][part]
        return normalised(plain + mirrored if flip else plain)

    for size in sizes:
        measure(f"{size} px", features(size, "references"), features(size, "queries"))
        measure(f"{size} px + flip", features(size, "references", True), features(size, "queries", True))
    if len(sizes) > 1:
        measure("multi-scale " + "+".join(map(str, sizes)), normalised(sum(features(s, "references") for s in sizes)),
                normalised(sum(features(s, "queries") for s in sizes)))
    R, Q = features(sizes[0], "references"), features(sizes[0], "queries")
    base = f"{sizes[0]} px"
    measure(f"{base} + query expansion", R, averaged_with_neighbours(Q, R, EXPANSION_NEIGHBOURS))
    measure(f"{base} + database-side augmentation", averaged_with_neighbours(R, R, EXPANSION_NEIGHBOURS + 1), Q)
    measure(f"{base} + class centroid", R, Q, centroid_probabilities(R, labels, Q, categories,
                                                                     VoteConfig().temperature))
    measure(f"{base} + linear head", R, Q, head_probabilities(R, labels, Q, categories))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"backbone": get_backbone(args.backbone).weights.version, "score_weight": SCORE_WEIGHT,
                       "expansion_neighbours": EXPANSION_NEIGHBOURS, "accuracy": results}, handle, indent=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--sizes", default="224,288",
                        help="input sizes to measure (pixels, comma-separated); the other options use the first")
    parser.add_argument("--json")
    torch.set_grad_enabled(False)
    main(parser.parse_args())
