"""What staff review buys: correct the least confident share of the queries, then re-categorize the rest.

    python -m bench.review_loop --backbone NAME --reference DIR --queries DIR [--share 0.1] [--json FILE]

The queries are categorized as the worker would (whole photos), ranked by the confidence the review
queue sorts by (the deepest assigned level's; 0 when nothing was assigned), and the least confident
`--share` are "corrected": each becomes a reference of its true category with the embedding it
was categorized with, exactly what a staff decision does. The other queries are then categorized
again against the grown index. Reported: accuracy of those others before and after, and of all
queries (a corrected one counts as right after review).
"""

import json
import sys

import numpy as np
from tqdm import tqdm

from bench.common import reference_and_queries_parser
from vision.backbones import get_backbone
from vision.catalogue import scan_catalogue
from vision.categorize import Categorizer, build_index
from vision.embedder import Embedder
from vision.figures import write_figures
from vision.images import load_in_batches
from vision.scoring import score
from vision.vote import vote


def get_args_parser():
    parser = reference_and_queries_parser(__doc__)
    parser.add_argument("--share", type=float, default=0.1, help="least confident share that staff correct")
    parser.add_argument("--json")
    return parser


def review_confidence(assignment):
    return assignment.confidence if assignment.path else 0.0


def categorize_all(categorizer, queries):
    """[(truth, Assignment, embedding)] for every readable query."""
    results = []
    with tqdm(total=len(queries), desc="queries", unit="img", file=sys.stderr) as bar:
        for readable, images, _ in load_in_batches(queries, 32, progress=bar):
            for query, categorized in zip(readable, categorizer.categorize(images) if images else []):
                results.append((query.category, categorized.assignment, categorized.embedding))
    return results


def main(args):
    embedder = Embedder(get_backbone(args.backbone))
    index, _ = build_index(scan_catalogue(args.reference), embedder)
    categorizer = Categorizer(embedder, index)
    results = categorize_all(categorizer, scan_catalogue(args.queries))
    ranked = sorted(results, key=lambda result: review_confidence(result[1]))
    corrected, rest = ranked[:round(args.share * len(ranked))], ranked[round(args.share * len(ranked)):]
    before_rest = score([(truth, assignment) for truth, assignment, _ in rest])
    index.add(np.stack([e for _, _, e in corrected]), [truth for truth, _, _ in corrected],
              list(range(-len(corrected), 0)))  # ids no import uses
    neighbour_lists = index.search(np.stack([e for _, _, e in rest]), categorizer.config.searched)
    after_rest = score([(truth, vote(neighbours, categorizer.config))
                        for (truth, _, _), neighbours in zip(rest, neighbour_lists)])
    figures = {
        "backbone": embedder.weights.version,
        "queries": len(results),
        "corrected": len(corrected),
        "corrected_were_wrong_at_leaf": sum(a.best_category != t for t, a, _ in corrected),
        "rest_before": before_rest,
        "rest_after": after_rest,
        "all_before": score([(truth, assignment) for truth, assignment, _ in results]),
        "all_after_leaf": (len(corrected) + after_rest["accuracy_by_depth"]["leaf"] * len(rest)) / len(results),
    }
    print(json.dumps(figures, indent=2))
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
