"""One decision per listing: several photos of one product pooled, against one photo alone.

    python -m bench.listing_decisions --backbone NAME --reference DIR --queries DIR [--photos 3] [--json FILE]

A listing's photos are of one product, taken together: the queries of each occasion (photos of
one leaf whose frozen features are alike, vision.splits) are dealt into pseudo-listings of up to
--photos photos (at least 2). Each listing is decided from all its photos as the worker decides
it (Categorizer.decide_listing), and again with a photo of another leaf added (a stray photo).
Reported for every photo alone, for the listings' photos alone, for the listings and for the
listings with a stray photo: leaf accuracy, calibration error, coverage at precision and
auto-accept, as vision.evaluate computes them.
"""

from collections import defaultdict

import numpy as np

from bench.common import categorizer_over, embedded_references, reference_and_queries_parser
from vision.catalogue import scan_catalogue
from vision.experiment import categorize_embedded, embed_catalogue, with_occasions
from vision.figures import write_figures
from vision.scoring import Result, calibration_figures, score


def get_args_parser():
    parser = reference_and_queries_parser(__doc__)
    parser.add_argument("--photos", type=int, default=3, help="photos per pseudo-listing, at most")
    parser.add_argument("--json")
    return parser


def pseudo_listings(results, occasions, size):
    """Lists of 2 to `size` results of one occasion each."""
    by_occasion = defaultdict(list)
    for result, occasion in zip(results, occasions):
        by_occasion[occasion].append(result)
    listings = []
    for members in by_occasion.values():
        listings += [members[i:i + size] for i in range(0, len(members), size) if len(members[i:i + size]) > 1]
    return listings


def decided(categorizer, listings):
    return [Result(members[0].path, members[0].truth, None,
                   categorizer.decide_listing([m.assignment for m in members],
                                              [m.decision.top_similarity for m in members]))
            for members in listings]


def with_a_stray_photo(listings, results, rng):
    """Each listing with a photo of another leaf added."""
    strays = []
    for members in listings:
        others = [r for r in results if r.truth != members[0].truth]
        strays.append(members + [others[int(rng.integers(len(others)))]])
    return strays


def figures_of(results, target_precision):
    figures = score(results) | calibration_figures(results, target_precision)
    return {key: figures[key] for key in ("n_queries", "accuracy_by_depth", "calibration_error",
                                          "coverage_at_precision", "auto_accept", "mean_leaf_confidence")}


def main(args):
    embedder, novelty_embedder, references = embedded_references(args.backbone, args.reference)
    queries = with_occasions(embed_catalogue(scan_catalogue(args.queries), embedder, 32, "queries",
                                             novelty_embedder))
    categorizer = categorizer_over(references, np.arange(len(references.images)), embedder, novelty_embedder)
    singles = categorize_embedded(categorizer, queries, np.arange(len(queries.images)))
    rng = np.random.default_rng(0)
    listings = pseudo_listings(singles, queries.groups, args.photos)
    figures = {
        "backbone": embedder.weights.version,
        "photos_per_listing": args.photos,
        "single_photos": figures_of(singles, categorizer.target_precision),
        "their_photos_one_at_a_time": figures_of([m for members in listings for m in members],
                                                 categorizer.target_precision),
        "listings": figures_of(decided(categorizer, listings), categorizer.target_precision),
        "listings_with_a_stray_photo": figures_of(decided(categorizer, with_a_stray_photo(listings, singles, rng)),
                                                  categorizer.target_precision),
    }
    for name in ("single_photos", "their_photos_one_at_a_time", "listings", "listings_with_a_stray_photo"):
        f = figures[name]
        auto = f["auto_accept"]
        error = "none" if f["calibration_error"] is None else f"{f['calibration_error']:.3f}"
        print(f"{name:<28} n {f['n_queries']:4d}  leaf {f['accuracy_by_depth']['leaf']:.3f}  "
              f"ECE {error}  auto-accept {auto['coverage']:.3f} at {auto['precision']}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
