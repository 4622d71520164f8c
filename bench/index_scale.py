"""The reference index at a marketplace's scale: synthetic clustered references through the
project's own index (vision.index) and its update path (worker.indexing).

    python -m bench.index_scale --count N [--dimension 512] [--categories 2000] [--queries 1000] [--json FILE]

Build: N unit vectors around --categories centres (a category's photos are alike), added as the
worker builds an index from its references; past vision.index's threshold it is an HNSW graph.
Queries are new draws from the same clusters (a new photo is not a stored reference): latency is
one query at a time on one thread, through ReferenceIndex.search (neighbours and their categories),
and recall@10 is against exact search of the same vectors.

The correction: the index is saved as the worker's file, a worker's model cache (ModelCache, the
one the Celery worker uses) loads it, then a reference is saved in the database as a staff
correction saves one. correction_live_seconds runs from that save to the worker's next lookup
finding it (what it would use for the next photo), with the file left as it was; the same for a
reference moved to another category (a row left out and one added). The database is a temporary
SQLite file unless DATABASE_URL names another; the synthetic references themselves are not in
it, only the corrections (their change rows are what the worker reads).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid

import numpy as np

from bench.common import clustered, exact_neighbours, one_query_at_a_time, synthetic
from vision.figures import write_figures
from vision.index import ReferenceIndex, recall_at_10

# Synthetic reference ids start here, above any database id the corrections get.
FIRST_SYNTHETIC_ID = 10**12


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True, help="references in the index")
    parser.add_argument("--dimension", type=int, default=512, help="embedding size (the adapted embedders': 512)")
    parser.add_argument("--categories", type=int, default=2000, help="clusters, one per leaf category")
    parser.add_argument("--spread", type=float, default=0.03, help="noise around a category's centre, per dimension")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    return parser


def resident_mb():
    """This process's resident memory now (VmRSS), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def build(vectors, labels, weights):
    index = ReferenceIndex(vectors.shape[1], weights.name, weights.version)
    started = time.perf_counter()
    index.add(vectors, [("Synthetic", f"c{label}") for label in labels],
              np.arange(len(vectors), dtype=np.int64) + FIRST_SYNTHETIC_ID)
    return index, time.perf_counter() - started


def set_up_django(directory):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "index-scale-bench-" + os.urandom(16).hex())
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{directory}/bench.sqlite3")
    os.environ["CATALOG_VAR_DIR"] = directory
    os.environ["CATALOG_INDEX_PATH"] = os.path.join(directory, "index", "reference.npz")
    os.environ["CATALOG_MEDIA_ROOT"] = os.path.join(directory, "media")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def correction_live_seconds(cache, reference, find):
    """From saving `reference` (committed at once: autocommit) to the worker's next lookup of
    `find` returning it in its category."""
    started = time.perf_counter()
    reference.save()
    while True:
        found = cache.categorizer().index.search(find[None], 1)[0][0]
        if found.reference_id == reference.pk and found.category == reference.category.names:
            return time.perf_counter() - started


def corrections(index, centres, rng, spread):
    """Save the index as the worker's file, load it as a worker does, and time two corrections."""
    from django.conf import settings

    from catalog.models import Category, ReferenceImage
    from vision.index import read_manifest
    from worker.models_cache import ModelCache

    started = time.perf_counter()
    index.save(settings.CATALOG_INDEX_PATH)
    figures = {"save_seconds": time.perf_counter() - started,
               "file_mb": os.path.getsize(settings.CATALOG_INDEX_PATH) / 2**20}
    version = read_manifest(settings.CATALOG_INDEX_PATH)["version"]
    cache = ModelCache()
    started = time.perf_counter()
    cache.categorizer()
    figures["worker_cold_load_seconds"] = time.perf_counter() - started

    photo = clustered(rng, centres[:1], 1, spread)[0][0]
    reference = ReferenceImage(category=Category.objects.get_or_create_path(("Corrected", "new leaf")),
                               source=ReferenceImage.Source.REVIEW, source_key=f"item:{uuid.uuid4()}",
                               image="bench.jpg", embedding=photo.tobytes(),
                               embedding_version=index.backbone_version)
    figures["correction_live_seconds"] = correction_live_seconds(cache, reference, photo)
    reference.category = Category.objects.get_or_create_path(("Corrected", "another leaf"))
    figures["recategorization_live_seconds"] = correction_live_seconds(cache, reference, photo)
    figures["file_rewritten"] = read_manifest(settings.CATALOG_INDEX_PATH)["version"] != version
    return figures


def main(args):
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="index-scale-") as directory:
        set_up_django(directory)
        from django.conf import settings

        from worker.models_cache import models

        weights = models.embedder(settings.CATALOG_BACKBONE).weights
        vectors, labels, queries, centres = synthetic(args, rng)
        before = resident_mb()
        index, build_seconds = build(vectors, labels, weights)
        figures = {"count": args.count, "dimension": args.dimension, "categories": args.categories,
                   "kind": "hnsw" if index.is_approximate else "flat",
                   "ef_search": index.manifest()["ef_search"],
                   "build_seconds": build_seconds, "memory_mb": resident_mb() - before}
        print(f"built {args.count:,} in {build_seconds:.1f} s", file=sys.stderr)
        found, timings = one_query_at_a_time(lambda query: index.search(query, 10)[0], queries)
        figures["query_ms_single_thread"] = float(np.median(timings))
        figures["query_ms_p99_single_thread"] = float(np.percentile(timings, 99))
        figures["recall_at_10"] = recall_at_10(exact_neighbours(vectors, queries) + FIRST_SYNTHETIC_ID,
                                               [[n.reference_id for n in neighbours] for neighbours in found])
        del vectors
        figures |= corrections(index, centres, rng, args.spread)
        figures["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key, value in figures.items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
