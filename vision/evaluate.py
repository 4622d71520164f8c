"""Measure categorization on a folder-tree catalogue.

    python -m vision.evaluate --reference DIR --queries DIR [--backbone NAME] [--segmenter NAME] [--json FILE]

Builds the index from the reference tree, categorizes every query image through the same
Categorizer the worker uses, and prints accuracy at depth 1, depth 2 and leaf, the
abstention rate, throughput and the worst classes.
"""

import argparse
import sys
import time
from collections import Counter, defaultdict

from tqdm import tqdm

from .backbones import DEFAULT_BACKBONE, get_backbone, list_backbones
from .catalogue import format_path, scan_catalogue
from .categorize import Categorizer, build_index, load_in_batches
from .embedder import Embedder
from .figures import write_figures
from .segment import load_segmenter
from .vote import VoteConfig

WORST_CLASSES_SHOWN = 8


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="folder tree of labelled reference images")
    parser.add_argument("--queries", required=True, help="folder tree of labelled query images")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=list_backbones())
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--k", type=int, default=VoteConfig.k, help="neighbours that vote")
    parser.add_argument("--temperature", type=_temperature, default=VoteConfig.temperature,
                        help="similarity softmax temperature, or 'none' for equal votes")
    parser.add_argument("--threshold", type=float, default=VoteConfig.threshold,
                        help="confidence a node needs to be assigned")
    parser.add_argument("--segmenter", help="find items first, as the worker does; a query's prediction is its "
                                             "largest item's (default: categorize whole photos)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    return parser


def _temperature(text):
    return None if text.lower() == "none" else float(text)


def categorize_queries(categorizer, queries, batch_size, segmenter=None):
    """(truth, assignment) for every readable query, and the unreadable ones."""
    results, skipped = [], []
    with tqdm(total=len(queries), desc="queries", unit="img", file=sys.stderr) as bar:
        for readable, images, unreadable in load_in_batches(queries, batch_size, progress=bar):
            skipped.extend(unreadable)
            if segmenter is not None:
                predictions = [categorizer.categorize_photo(image, segmenter)[0][1] for image in images]
            else:
                predictions = categorizer.categorize(images) if images else []
            results.extend((query.category, p.assignment) for query, p in zip(readable, predictions))
    return results, skipped


def _correct_at_depth(truth, assignment, depth):
    depth = min(depth, len(truth))
    return assignment.best_at_depth(depth) == truth[:depth]


def _assigned_correctly(truth, assignment):
    return bool(assignment.path) and truth[:len(assignment.path)] == assignment.path


def score(results):
    """The figures of `vision.evaluate` for [(true path, Assignment)]."""
    n = len(results)

    def fraction(test):
        return sum(1 for truth, a in results if test(truth, a)) / n if n else 0.0

    return {
        "accuracy_by_depth": {
            "1": fraction(lambda t, a: _correct_at_depth(t, a, 1)),
            "2": fraction(lambda t, a: _correct_at_depth(t, a, 2)),
            "leaf": fraction(lambda t, a: a.best_category == t),
        },
        "abstain_rate": fraction(lambda t, a: a.stopped_above_leaf),
        "assigned_accuracy": fraction(_assigned_correctly),
        "n_queries": n,
    }


def worst_classes(results, count=WORST_CLASSES_SHOWN):
    by_class = defaultdict(list)
    for truth, assignment in results:
        by_class[truth].append(assignment.best_category)
    rows = []
    for truth, predicted in by_class.items():
        wrong = Counter(p for p in predicted if p != truth)
        confused_with = wrong.most_common(1)[0][0] if wrong else None
        rows.append((sum(p == truth for p in predicted) / len(predicted), len(predicted), truth, confused_with))
    return sorted(rows, key=lambda row: (row[0], -row[1]))[:count]


def print_report(figures, worst):
    accuracy = figures["accuracy_by_depth"]
    print(f"backbone            {figures['backbone']}")
    print(f"references/queries  {figures['n_reference']} / {figures['n_queries']}")
    for key, label in (("1", "depth 1"), ("2", "depth 2"), ("leaf", "leaf")):
        print(f"accuracy {label:<10} {accuracy[key]:.1%}")
    print(f"abstain rate        {figures['abstain_rate']:.1%}")
    print(f"assigned accuracy   {figures['assigned_accuracy']:.1%}")
    print(f"images/s            {figures['images_per_second']:.1f}")
    print("worst classes (leaf accuracy, queries, most confused with):")
    for accuracy_, n, truth, confused in worst:
        other = format_path(confused) if confused else "-"
        print(f"  {accuracy_:6.1%} {n:4d}  {format_path(truth)}  →  {other}")


def main(args):
    config = VoteConfig(k=args.k, temperature=args.temperature, threshold=args.threshold)
    embedder = Embedder(get_backbone(args.backbone), device=args.device, batch_size=args.batch_size)
    started = time.perf_counter()
    index, skipped_references = build_index(scan_catalogue(args.reference), embedder)
    index_seconds = time.perf_counter() - started
    queries = scan_catalogue(args.queries)
    started = time.perf_counter()
    segmenter = load_segmenter(args.segmenter, device=args.device) if args.segmenter else None
    results, skipped_queries = categorize_queries(Categorizer(embedder, index, config), queries, args.batch_size,
                                                  segmenter)
    query_seconds = time.perf_counter() - started
    figures = score(results) | {
        "images_per_second": len(results) / query_seconds if query_seconds else 0.0,
        "index_build_seconds": index_seconds,
        "n_reference": len(index),
        "backbone": embedder.weights.version,
        "segmenter": segmenter.version if segmenter else None,
        "vote": {"k": config.k, "temperature": config.temperature, "threshold": config.threshold},
        "skipped": [{"path": p, "reason": r} for p, r in skipped_references + skipped_queries],
    }
    print_report(figures, worst_classes(results))
    for path, reason in skipped_references + skipped_queries:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
