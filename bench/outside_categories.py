"""Photos of products the catalogue does not have: whole leaves, then whole top-level categories, held out.

    python -m bench.outside_categories --backbone NAME --reference DIR --queries DIR [--json FILE]

Leaves: the reference tree's leaves are dealt into 5 parts; for each part, the index (and its
calibration, as the app fits it) is built without that part's leaves, and the queries of those
leaves are categorized. A photo of an unknown leaf should stop at its (known) parent or be
flagged; any answer accepted down to a leaf is wrong. Top levels: the same with each top-level
category left out in turn; any accepted level is then wrong, and flagging is the right answer.
"""


import numpy as np

from bench.common import categorizer_over, embedded_references, reference_and_queries_parser
from vision import outcomes
from vision.catalogue import scan_catalogue
from vision.experiment import categorize_embedded, embed_catalogue
from vision.figures import write_figures

PARTS = 5


def get_args_parser():
    parser = reference_and_queries_parser(__doc__)
    parser.add_argument("--json")
    return parser


def held_out_results(references, queries, embedder, novelty_embedder, held_out):
    """Results of the queries whose category `held_out` matches, against an index without those categories."""
    kept = [i for i, image in enumerate(references.images) if not held_out(image.category)]
    rows = np.array([i for i, image in enumerate(queries.images) if held_out(image.category)], int)
    categorizer = categorizer_over(references, kept, embedder, novelty_embedder)
    return categorize_embedded(categorizer, queries, rows)


def leaf_figures(results):
    n = len(results) or 1

    def share(test):
        return sum(1 for r in results if test(r)) / n

    def parent_kept(r):  # stopped at or above the parent, and what it kept is right
        path = r.decision.path
        return len(path) < len(r.truth) and r.truth[:len(path)] == path

    return {
        "n_queries": len(results),
        "flagged_rate": share(lambda r: r.decision.outcome == outcomes.NOT_IN_CATALOGUE),
        "stopped_at_a_right_parent_rate": share(lambda r: r.decision.outcome != outcomes.NOT_IN_CATALOGUE
                                                and parent_kept(r)),
        "accepted_at_a_right_parent_rate": share(
            lambda r: r.decision.outcome == outcomes.ACCEPTED_AT_PARENT
            and r.truth[:r.decision.accepted_depth] == r.decision.predicted[:r.decision.accepted_depth]),
        "wrongly_accepted_rate": share(lambda r: r.decision.outcome == outcomes.ACCEPTED),
    }


def top_level_figures(results):
    n = len(results) or 1
    return {
        "n_queries": len(results),
        "flagged_rate": sum(r.decision.outcome == outcomes.NOT_IN_CATALOGUE for r in results) / n,
        "wrongly_accepted_rate": sum(r.decision.outcome in (outcomes.ACCEPTED, outcomes.ACCEPTED_AT_PARENT)
                                     for r in results) / n,
    }


def main(args):
    embedder, novelty_embedder, references = embedded_references(args.backbone, args.reference)
    queries = embed_catalogue(scan_catalogue(args.queries), embedder, 32, "queries", novelty_embedder)
    leaves = sorted({image.category for image in references.images})
    leaf_results = []
    for part in range(PARTS):
        held = set(leaves[part::PARTS])
        leaf_results += held_out_results(references, queries, embedder, novelty_embedder,
                                         lambda category: category in held)
    top_levels = sorted({image.category[0] for image in references.images})
    by_top_level = {top: top_level_figures(held_out_results(references, queries, embedder, novelty_embedder,
                                                            lambda category: category[0] == top))
                    for top in top_levels}
    figures = {
        "backbone": embedder.weights.version,
        "held_out_leaves": leaf_figures(leaf_results),
        "held_out_top_levels": by_top_level,
    }
    for name, values in [("leaves", figures["held_out_leaves"]), *by_top_level.items()]:
        print(f"{name:<12} " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                         for k, v in values.items()))
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
