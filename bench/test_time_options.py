"""Measure test-time options on a catalogue: horizontal-flip averaging and a class-centroid score.

    python bench/test_time_options.py --backbone NAME --reference DIR --queries DIR [--json FILE]

Each option is measured with the same vote as vision.evaluate (leaf accuracy = most confident
referenced category). "centroid" adds to each category's kNN confidence the softmax of the
query's similarity to the category's mean reference embedding, weighted by --centroid-weight.
"""

import argparse
import json
import os
import sys
from collections import defaultdict

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vision.backbones import get_backbone  # noqa: E402
from vision.catalogue import scan_catalogue  # noqa: E402
from vision.categorize import load_in_batches  # noqa: E402
from vision.embedder import Embedder, pool_embeddings  # noqa: E402
from vision.index import ReferenceIndex  # noqa: E402
from vision.vote import VoteConfig, vote  # noqa: E402


def embed(embedder, images, flip):
    """(the readable images, their embeddings); with `flip`, each map is summed with its mirror's."""
    kept, embeddings = [], []
    for readable, batch, _ in load_in_batches(images, 32):
        maps = embedder.forward(batch).feature_maps
        if flip:
            mirrored = [image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for image in batch]
            maps = maps + torch.flip(embedder.forward(mirrored).feature_maps, dims=[3])
        kept.extend(readable)
        embeddings.append(pool_embeddings(maps).numpy())
    return kept, np.concatenate(embeddings)


def leaf_accuracy(references, queries, ref_embeddings, query_embeddings, centroid_weight, config):
    index = ReferenceIndex(ref_embeddings.shape[1], "bench", "bench")
    index.add(ref_embeddings, [r.category for r in references], list(range(len(references))))
    categories = sorted({r.category for r in references})
    by_category = defaultdict(list)
    for reference, embedding in zip(references, ref_embeddings):
        by_category[reference.category].append(embedding)
    centroids = np.stack([np.mean(by_category[c], axis=0) for c in categories])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    correct = 0
    for query, embedding, neighbours in zip(queries, query_embeddings, index.search(query_embeddings, config.k)):
        scores = defaultdict(float, {c: p for c, p in vote(neighbours, config).node_confidence.items()
                                     if c in by_category})
        if centroid_weight:
            logits = centroids @ embedding / config.temperature
            softmax = np.exp(logits - logits.max())
            for category, p in zip(categories, softmax / softmax.sum()):
                scores[category] += centroid_weight * p
        correct += max(scores, key=scores.get) == query.category
    return correct / len(queries)


def main(args):
    embedder = Embedder(get_backbone(args.backbone))
    references, queries = scan_catalogue(args.reference), scan_catalogue(args.queries)
    results = {}
    for flip in (False, True):
        (kept_references, ref_embeddings), (kept_queries, query_embeddings) = (
            embed(embedder, references, flip), embed(embedder, queries, flip))
        for weight in (0.0, args.centroid_weight):
            name = ("flip" if flip else "plain") + (f"+centroid{weight}" if weight else "")
            results[name] = leaf_accuracy(kept_references, kept_queries, ref_embeddings, query_embeddings, weight,
                                          VoteConfig())
            print(f"{name:24s} leaf {results[name]:.1%}", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"backbone": embedder.weights.version, "leaf_accuracy": results}, handle, indent=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--centroid-weight", type=float, default=0.5)
    parser.add_argument("--json")
    main(parser.parse_args())
