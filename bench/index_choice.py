"""Which FAISS index for a large catalogue: HNSW (what vision.index uses past its threshold) against
IVF with compressed vectors, on bench.index_scale's synthetic clustered references (bench.common).

    python -m bench.index_choice --count N [--dimension 512] [--queries 1000] [--kinds "K1;K2"] [--json FILE]

Each kind is built with faiss.index_factory (IVF kinds trained on a sample first), then measured
at a few search widths: memory (the serialized index), single-thread query latency (median and
p99) and recall@10 against exact search. The faiss guidelines: HNSW when memory allows (fastest at
high recall, no training, vectors can be added one at a time); IVF with PQ or SQ codes when it does
not.

Product quantization with re-ranking ("...,Refine(SQ8)", "...,RFlat"): the IVF-PQ index finds
k_factor x 10 candidates by its short codes, then a second set of codes of every vector (8- or
6-bit scalar codes, or the vectors themselves for RFlat) ranks those again by a finer distance. Its
search widths set both nprobe (on the IVF index inside) and k_factor_rf (the IndexRefine's
k_factor). Its memory is both sets of codes: a refine by SQ8 alone is already as large as
IVF4096,SQ8, so only smaller refine codes can save memory.

Builds use the threads the environment gives (OMP_NUM_THREADS); queries always run on one.
"""

import argparse
import itertools
import time

import faiss
import numpy as np

from bench.common import exact_neighbours, one_query_at_a_time, synthetic
from vision.figures import write_figures
from vision.index import HNSW_EF_CONSTRUCTION, HNSW_NEIGHBOURS, recall_at_10


def widths(**values):
    """A kind's search widths: every combination of the values given for each faiss parameter (as
    ParameterSpace names them), the first parameter varying slowest."""
    return tuple(dict(zip(values, combination)) for combination in itertools.product(*values.values()))


REFINE_WIDTHS = widths(nprobe=(16, 32), k_factor_rf=(8, 16, 32, 64))
KINDS = {
    f"HNSW{HNSW_NEIGHBOURS},Flat": widths(efSearch=(32, 64, 128)),
    "IVF4096,SQ8": widths(nprobe=(16, 32, 64)),
    "IVF4096,SQ6": widths(nprobe=(16, 32, 64)),
    "IVF4096,PQ64": widths(nprobe=(16, 32, 64)),
    "IVF4096,PQ64,RFlat": REFINE_WIDTHS,
    "IVF4096,PQ64,Refine(SQ8)": REFINE_WIDTHS,
    "IVF4096,PQ128,Refine(SQ8)": REFINE_WIDTHS,
    "IVF4096,PQ64,Refine(SQ6)": REFINE_WIDTHS,
}
TRAINING_SAMPLE = 200_000


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--categories", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=0.03)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", default=";".join(KINDS), help=f"some of {'; '.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    return parser


def build(kind, vectors):
    index = faiss.index_factory(vectors.shape[1], kind, faiss.METRIC_INNER_PRODUCT)
    if "HNSW" in kind:
        faiss.downcast_index(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if "PQ" in kind:
        # index_factory asks IVF-PQ for polysemous training (a reordering of the codes for Hamming
        # filtering, which these searches do not use): minutes of training, no change to recall.
        faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training = False
    started = time.perf_counter()
    if not index.is_trained:
        index.train(vectors[:TRAINING_SAMPLE])
    index.add(vectors)
    return index, time.perf_counter() - started


def applied(index, setting):
    """Set one search width on `index` (ParameterSpace passes nprobe and efSearch down to the index
    inside a refine or a transform) and read it back from where faiss keeps it."""
    space = faiss.ParameterSpace()
    for name, value in setting.items():
        space.set_index_parameter(index, name, value)
    found = {}
    for name in setting:
        if name == "k_factor_rf":
            found[name] = faiss.downcast_index(index).k_factor
        elif name == "nprobe":
            found[name] = faiss.extract_index_ivf(index).nprobe
        else:
            found[name] = setting[name]
    if found != setting:
        raise RuntimeError(f"{setting} set, {found} in effect")


def measure(index, setting, queries, truth):
    """One search width (`setting`: {faiss parameter: value}): latency of one query at a time on one
    thread, and recall@10 against exact search."""
    applied(index, setting)
    found, timings = one_query_at_a_time(lambda query: index.search(query, 10)[1][0], queries)
    return setting | {"query_ms_single_thread": float(np.median(timings)),
                      "query_ms_p99_single_thread": float(np.percentile(timings, 99)),
                      "recall_at_10": recall_at_10(truth, found)}


def main(args):
    threads = faiss.omp_get_max_threads()
    vectors, _, queries, _ = synthetic(args, np.random.default_rng(args.seed))
    truth = exact_neighbours(vectors, queries)
    figures = {"count": args.count, "dimension": args.dimension, "build_threads": threads, "kinds": {}}
    for kind in args.kinds.split(";"):
        index, seconds = build(kind, vectors)
        memory_mb = faiss.serialize_index(index).nbytes / 2**20
        rows = []
        for setting in KINDS[kind]:
            rows.append(measure(index, setting, queries, truth))
            faiss.omp_set_num_threads(threads)  # one_query_at_a_time leaves it at every core
        figures["kinds"][kind] = {"build_seconds": seconds, "memory_mb": memory_mb, "searches": rows}
        for row in rows:
            print(f"{kind}: built in {seconds:.0f} s, {memory_mb:.0f} MB; {row}", flush=True)
        write_figures(figures, args.json)  # what is measured so far, should a later kind fail
        del index
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
