"""One decision per listing: several photos of one product pooled, against one photo alone.

    python bench/listing_decisions.py --backbone NAME --reference DIR --queries DIR [--photos 3] [--json FILE]

The queries of each leaf are dealt, in a fixed random order, into pseudo-listings of --photos
photos; each listing is decided from all its photos as the worker decides it
(Categorizer.decide_listing), and again with one of its photos swapped for a photo of another
leaf (a stray photo). Reported for single photos, listings and listings with a stray photo:
leaf accuracy, calibration error, coverage at precision and auto-accept, as vision.evaluate
computes them. Photos of one product taken for one listing are more alike than photos of one
leaf taken on other occasions, so real listings gain less from agreement than these do.
"""

import argparse
import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vision.backbones import get_backbone  # noqa: E402
from vision.catalogue import scan_catalogue  # noqa: E402
from vision.categorize import Categorizer  # noqa: E402
from vision.embedder import Embedder  # noqa: E402
from vision.evaluate import (  # noqa: E402
    Result,
    calibration_figures,
    categorize_embedded,
    embed_catalogue,
    make_index,
    score,
    with_occasions,
)
from vision.figures import write_figures  # noqa: E402
from vision.vote import VoteConfig  # noqa: E402


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--photos", type=int, default=3, help="photos per pseudo-listing")
    parser.add_argument("--json")
    return parser


def pseudo_listings(results, size, rng):
    """Lists of `size` results of one true leaf each."""
    by_leaf = defaultdict(list)
    for result in results:
        by_leaf[result.truth].append(result)
    listings = []
    for leaf in sorted(by_leaf):
        members = [by_leaf[leaf][i] for i in rng.permutation(len(by_leaf[leaf]))]
        listings += [members[i:i + size] for i in range(0, len(members) - size + 1, size)]
    return listings


def decided(categorizer, listings):
    return [Result(members[0].path, members[0].truth, None,
                   categorizer.decide_listing([m.assignment for m in members])) for members in listings]


def with_a_stray_photo(listings, results, rng):
    """Each listing with its last photo swapped for a photo of another leaf."""
    strays = []
    for members in listings:
        others = [r for r in results if r.truth != members[0].truth]
        strays.append(members[:-1] + [others[int(rng.integers(len(others)))]])
    return strays


def figures_of(results, target_precision):
    figures = score(results) | calibration_figures(results, target_precision)
    return {key: figures[key] for key in ("n_queries", "accuracy_by_depth", "calibration_error",
                                          "coverage_at_precision", "auto_accept", "mean_leaf_confidence")}


def main(args):
    embedder = Embedder(get_backbone(args.backbone))
    references = with_occasions(embed_catalogue(scan_catalogue(args.reference), embedder, 32, "references"),
                                embedder)
    queries = embed_catalogue(scan_catalogue(args.queries), embedder, 32, "queries")
    config = VoteConfig()
    categorizer = Categorizer(embedder, make_index(references, np.arange(len(references.images)), embedder, config),
                              config)
    singles = categorize_embedded(categorizer, queries, np.arange(len(queries.images)))
    rng = np.random.default_rng(0)
    listings = pseudo_listings(singles, args.photos, rng)
    figures = {
        "backbone": embedder.weights.version,
        "photos_per_listing": args.photos,
        "single_photos": figures_of(singles, categorizer.target_precision),
        "listings": figures_of(decided(categorizer, listings), categorizer.target_precision),
        "listings_with_a_stray_photo": figures_of(decided(categorizer, with_a_stray_photo(listings, singles, rng)),
                                                  categorizer.target_precision),
    }
    for name in ("single_photos", "listings", "listings_with_a_stray_photo"):
        f = figures[name]
        auto = f["auto_accept"]
        print(f"{name:<28} n {f['n_queries']:4d}  leaf {f['accuracy_by_depth']['leaf']:.3f}  "
              f"ECE {f['calibration_error']:.3f}  auto-accept {auto['coverage']:.3f} at {auto['precision']}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
