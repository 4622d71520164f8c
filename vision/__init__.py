"""Framework-free categorization core: image loading, backbones, FAISS index, hierarchical vote.

Nothing in this package imports Django; the worker, the management commands, the
benchmarks and a notebook all use it the same way.
"""
