"""Which FAISS index for a large catalogue: HNSW (what vision.index uses past its threshold) against
IVF with compressed vectors, on bench.index_scale's synthetic clustered references (bench.common).

    python -m bench.index_choice --count N [--dimension 512] [--queries 1000] [--json FILE]

Each kind is built with faiss.index_factory (IVF kinds trained on a sample first), then measured
at a few search widths: memory (the serialized index), single-thread query latency and recall@10
against exact search. The faiss guidelines: HNSW when memory allows (fastest at high recall, no
training, vectors can be added one at a time); IVF with PQ or SQ codes when it does not.
"""

import argparse
import time

import faiss
import numpy as np

from bench.common import exact_neighbours, one_query_at_a_time, synthetic
from vision.figures import write_figures
from vision.index import HNSW_EF_CONSTRUCTION, HNSW_NEIGHBOURS, recall_at_10

KINDS = {
    f"HNSW{HNSW_NEIGHBOURS},Flat": ("efSearch", (32, 64, 128)),
    "IVF4096,SQ8": ("nprobe", (16, 32, 64)),
    "IVF4096,PQ64": ("nprobe", (16, 32, 64)),
}
TRAINING_SAMPLE = 200_000


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--categories", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=0.03)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", default=";".join(KINDS), help=f"some of {', '.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    return parser


def build(kind, vectors):
    index = faiss.index_factory(vectors.shape[1], kind, faiss.METRIC_INNER_PRODUCT)
    if "HNSW" in kind:
        faiss.downcast_index(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    started = time.perf_counter()
    if not index.is_trained:
        index.train(vectors[:TRAINING_SAMPLE])
    index.add(vectors)
    return index, time.perf_counter() - started


def measure(index, setting, queries, truth):
    """One search width (`setting`: {faiss parameter: value}): latency of one query at a time on one
    thread, and recall@10 against exact search."""
    for name, value in setting.items():
        faiss.ParameterSpace().set_index_parameter(index, name, value)
    found, timings = one_query_at_a_time(lambda query: index.search(query, 10)[1][0], queries)
    return setting | {"query_ms_single_thread": float(np.median(timings)), "recall_at_10": recall_at_10(truth, found)}


def main(args):
    vectors, _, queries, _ = synthetic(args, np.random.default_rng(args.seed))
    truth = exact_neighbours(vectors, queries)
    figures = {"count": args.count, "dimension": args.dimension, "kinds": {}}
    for kind in args.kinds.split(";"):
        index, seconds = build(kind, vectors)
        memory_mb = faiss.serialize_index(index).nbytes / 2**20
        name, widths = KINDS[kind]
        rows = [measure(index, {name: width}, queries, truth) for width in widths]
        figures["kinds"][kind] = {"build_seconds": seconds, "memory_mb": memory_mb, "searches": rows}
        for row in rows:
            print(f"{kind}: built in {seconds:.0f} s, {memory_mb:.0f} MB; {row}", flush=True)
        del index
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
