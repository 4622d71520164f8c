"""What several benches share, in one module: the benches are commands, and no command imports
another (a bench imports these from here instead).

Catalogue trees: link_tree writes a part of a catalogue as a folder tree of symbolic links
(bench.split_leaves, bench.holdout_tree).

Synthetic references (bench.index_scale, bench.index_choice): synthetic draws clustered unit
vectors as a large catalogue's embeddings, one_query_at_a_time times a search on one thread and
exact_neighbours is the truth recall is measured against.
"""

import os
import time

import faiss
import numpy as np


def link_tree(images, root, leaves):
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
