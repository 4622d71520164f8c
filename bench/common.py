"""What several benches share, in one module: the benches are commands, and no command imports
another (a bench imports these from here instead).

Catalogue trees: link_tree writes a part of a catalogue as a folder tree of symbolic links
(bench.split_leaves, bench.holdout_tree).

Synthetic references (bench.index_scale, bench.index_choice): synthetic draws clustered unit
vectors as a large catalogue's embeddings, one_query_at_a_time times a search on one thread and
exact_neighbours is the truth recall is measured against.

A reference tree against a query tree (bench.listing_decisions, bench.outside_categories,
bench.review_loop, bench.worker_cost): reference_and_queries_parser gives their common options,
embedded_references the reference tree embedded as vision.experiment embeds it (with its
occasions), and categorizer_over the app's Categorizer over some of those references.

worker_categorizer and one_pass: a worker's Categorizer over a reference tree, and what it computes
for a pass of photos (bench.worker_cost, bench.request_cost).

Items on real photos (bench.tune_real_items, bench.segmenter_int8): tuning_photos are the boxed
Freiburg photos that settings are chosen on, outside the part vision.evaluate_items reports on;
box_counts and f1 score the items a segmenter finds there.
"""

import argparse
import os
import time
from types import SimpleNamespace

import faiss
import numpy as np

from vision.boxes import match_boxes
from vision.cam import refresh_head
from vision.catalogue import scan_catalogue
from vision.categorize import Categorizer
from vision.coco import load_instances
from vision.content_keys import content_key
from vision.experiment import (
    embed_catalogue,
    make_index,
    novelty_embedder_for,
    with_occasions,
)
from vision.images import load_image
from vision.items import spread
from vision.runtimes import DEFAULT_RUNTIME, load_embedder
from vision.segment import photo_items
from vision.splits import holdout_split
from vision.text import suggest_title
from vision.vote import VoteConfig

FREIBURG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets",
                        "freiburg-groceries")
# The 23 Grocery val photos (of the first three of each Packages leaf) that show one carton held in a
# hand in front of a shelf: each should give one item (bench.items_in_hand, bench.detector_rules).
VAL_PACKAGES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets",
                            "grocery-store", "dataset", "val", "Packages")
HELD_IN_A_HAND = [
    "Juice/Bravo-Apple-Juice/Bravo-Apple-Juice_001.jpg", "Juice/Bravo-Apple-Juice/Bravo-Apple-Juice_002.jpg",
    "Juice/Bravo-Orange-Juice/Bravo-Orange-Juice_001.jpg", "Juice/Bravo-Orange-Juice/Bravo-Orange-Juice_002.jpg",
    "Juice/God-Morgon-Apple-Juice/God-Morgon-Apple-Juice_001.jpg",
    "Juice/God-Morgon-Apple-Juice/God-Morgon-Apple-Juice_003.jpg",
    "Juice/God-Morgon-Red-Grapefruit-Juice/God-Morgon-Red-Grapefruit-Juice_001.jpg",
    "Juice/God-Morgon-Red-Grapefruit-Juice/God-Morgon-Red-Grapefruit-Juice_003.jpg",
    "Milk/Arla-Ecological-Medium-Fat-Milk/Arla-Ecological-Medium-Fat-Milk_001.jpg",
    "Milk/Arla-Medium-Fat-Milk/Arla-Medium-Fat-Milk_001.jpg", "Milk/Arla-Medium-Fat-Milk/Arla-Medium-Fat-Milk_002.jpg",
    "Milk/Arla-Standard-Milk/Arla-Standard-Milk_002.jpg",
    "Milk/Garant-Ecological-Medium-Fat-Milk/Garant-Ecological-Medium-Fat-Milk_003.jpg",
    "Milk/Garant-Ecological-Standard-Milk/Garant-Ecological-Standard-Milk_003.jpg",
    "Oatghurt/Oatly-Natural-Oatghurt/Oatly-Natural-Oatghurt_001.jpg",
    "Oatghurt/Oatly-Natural-Oatghurt/Oatly-Natural-Oatghurt_002.jpg",
    "Oatghurt/Oatly-Natural-Oatghurt/Oatly-Natural-Oatghurt_003.jpg",
    "Sour-Cream/Arla-Sour-Cream/Arla-Sour-Cream_001.jpg", "Sour-Cream/Arla-Sour-Cream/Arla-Sour-Cream_002.jpg",
    "Soyghurt/Alpro-Blueberry-Soyghurt/Alpro-Blueberry-Soyghurt_001.jpg",
    "Soyghurt/Alpro-Blueberry-Soyghurt/Alpro-Blueberry-Soyghurt_002.jpg",
    "Soyghurt/Alpro-Vanilla-Soyghurt/Alpro-Vanilla-Soyghurt_001.jpg",
    "Soyghurt/Alpro-Vanilla-Soyghurt/Alpro-Vanilla-Soyghurt_003.jpg",
]


def link_tree(images, root, leaves):
    """Link each of `images` whose category is one of `leaves` into ROOT/<its category path>/."""
    for image in images:
        if image.category in leaves:
            folder = os.path.join(root, *image.category)
            os.makedirs(folder, exist_ok=True)
            os.symlink(os.path.abspath(image.path), os.path.join(folder, os.path.basename(image.path)))


def synthetic(args, rng):
    """(references, their category numbers, queries): unit vectors around args.categories
    centres; the queries are new draws from the same clusters."""
    centres = rng.standard_normal((args.categories, args.dimension)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors, labels = clustered(rng, centres, args.count, args.spread)
    return vectors, labels, clustered(rng, centres, args.queries, args.spread)[0], centres


def clustered(rng, centres, count, spread):
    labels = rng.integers(0, len(centres), count)
    vectors = centres[labels] + spread * rng.standard_normal((count, centres.shape[1]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, labels


def one_query_at_a_time(search, queries):
    """(what `search` returned for each query, its milliseconds), one query at a time on one thread."""
    faiss.omp_set_num_threads(1)
    found, timings = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(search(query[None]))
        timings.append((time.perf_counter() - started) * 1000)
    faiss.omp_set_num_threads(os.cpu_count())
    return found, timings


def exact_neighbours(vectors, queries):
    """The rows of the 10 nearest vectors of each query, by exact search."""
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    return exact.search(queries, 10)[1]


def reference_and_queries_parser(description):
    """The options of a bench over a reference tree and a query tree: --reference, --queries and
    --backbone; the bench adds its own after them (and --json last, as its help has always listed it)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    return parser


def embedded_references(backbone, reference, runtime=DEFAULT_RUNTIME, onnx_dir=None):
    """(the embedder of `backbone` on `runtime`, its novelty embedder, the `reference` tree embedded
    with its occasions)."""
    embedder = load_embedder(backbone, runtime, onnx_dir)
    novelty_embedder = novelty_embedder_for(embedder, runtime=runtime)
    references = with_occasions(embed_catalogue(scan_catalogue(reference), embedder, 32, "references",
                                                novelty_embedder))
    return embedder, novelty_embedder, references


def categorizer_over(references, rows, embedder, novelty_embedder):
    """The app's Categorizer (default vote) over the embedded references at `rows`, its index
    calibrated as the app calibrates one."""
    config = VoteConfig()
    return Categorizer(embedder, make_index(references, rows, embedder, config), config,
                       novelty_embedder=novelty_embedder)


def worker_categorizer(backbone, reference, runtime=DEFAULT_RUNTIME, onnx_dir=None):
    """(the embedded references, the Categorizer a worker would have over all of them: its index
    calibrated and its class head fitted, for the heatmaps)."""
    embedder, novelty_embedder, references = embedded_references(backbone, reference, runtime, onnx_dir)
    config = VoteConfig()
    index = make_index(references, np.arange(len(references.images)), embedder, config)
    refresh_head(index)
    return references, Categorizer(embedder, index, config, novelty_embedder=novelty_embedder)


def one_pass(paths, categorizer, segmenter, reader=None):
    """What the worker computes for one pass of photos; returns how many items it found."""
    images = [load_image(path) for path in paths]
    found = categorizer.categorize_photos(images, segmenter)
    for image, items in zip(images, found):
        for item, result in items:
            categorizer.heatmap(result, item.crop_box(image.size))
        if reader is not None:
            suggest_title(reader.read(image))
    return sum(len(items) for items in found)


def tuning_photos(references, sample, holdout_fraction=0.2):
    """(a spread sample of `sample` boxed Freiburg photos outside the part that `vision.evaluate_items
    --holdout-fraction` holds out, the content keys of that part): `references` is the Freiburg
    photo tree embedded with its occasions (embedded_references)."""
    _, held = holdout_split(references.images, holdout_fraction, 0, references.groups)
    held_keys = {content_key(image.path) for image in held}
    photos = [photo for photo in load_instances(os.path.join(FREIBURG, "instances.json"),
                                                os.path.join(FREIBURG, "photos"))
              if photo.products and content_key(photo.path) not in held_keys]
    return spread(photos, sample), held_keys


def detector_photo_parts():
    """(training, tuning, validation): the boxed Freiburg photos in the product detector's three parts
    (vision.training.detector.photo_parts). The tuning part it never trained on; its score threshold
    was chosen there."""
    from vision.training.detector import photo_parts  # here: it loads PyTorch, which most benches do without

    return photo_parts(SimpleNamespace(instances=os.path.join(FREIBURG, "instances.json"),
                                       photos=os.path.join(FREIBURG, "photos"), limit=None))


def box_counts(segmenter, images, photos):
    """[labelled, found, matched] summed over the photos, items as the worker finds them."""
    counts = np.zeros(3, int)
    for image, photo in zip(images, photos):
        boxes = [item.box for item in photo_items(image, segmenter)]
        counts += [len(photo.products), len(boxes), len(match_boxes(boxes, [p.box for p in photo.products]))]
    return counts


def f1(counts):
    labelled, found, matched = counts
    recall, precision = matched / labelled, matched / found
    return 2 * recall * precision / (recall + precision) if matched else 0.0
