"""The worker's vision path on each runtime, in one run on one machine: decode, find the items,
embed them (and judge novelty), vote, decide, and draw each item's heatmap, as
worker.categorizing does, on PyTorch and on ONNX Runtime.

    python -m bench.worker_cost --backbone NAME --reference DIR --photos DIR [--limit 64]
        [--threads 1] [--passes 1 8 32] [--runtimes torch onnx] [--onnx-backbone NAME] [--onnx-dir DIR]
        [--onnx-provider cpu|cuda] [--segmenter NAME|none] [--read-text] [--json FILE]

The index is built from --reference first (on the first of --runtimes; not counted) and saved;
with --onnx-backbone (e.g. the int8 model a worker on ONNX Runtime serves instead), ONNX Runtime
gets an index of that one, built on it. Then each
runtime runs in a fresh process of its own, as a worker does: what it takes from the process's
start to its first photo categorized is the cold start (imports, the models and the index loaded,
one photo); then, for each pass size (photos a pass, as CATALOG_BATCH_PHOTOS takes them; smallest
first), the photos/s of the worker's path, the CPU seconds a photo (all the process's threads),
the share of a photo's time spent outside the networks' passes (decoding, crops, resizing, the
maps' post-processing, heatmaps: the CPU side) and the process's peak resident memory so far; and
last the backbone alone, embedding the whole photos (all held at once) at each pass size: the
ceiling the path could reach. The networks get --threads intra-op threads. A runtime that cannot
run here (no onnxruntime, or no CUDA provider with --onnx-provider cuda) is reported as skipped,
with why.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PASSES = (1, 8, 32)


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", help="the reference tree the index is built from")
    parser.add_argument("--photos", required=True, help="a folder tree of photos to categorize")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--segmenter", help="'none' to categorize whole photos (default: the one a worker on each "
                                             "runtime serves: vision.segment.DEFAULT_SEGMENTER)")
    parser.add_argument("--limit", type=int, default=64, help="photos timed (spread over the tree)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of the networks")
    parser.add_argument("--passes", type=int, nargs="+", default=list(PASSES), help="photos a pass")
    parser.add_argument("--runtimes", nargs="+", default=["torch", "onnx"], choices=["torch", "onnx"])
    parser.add_argument("--onnx-backbone", help="the embedder ONNX Runtime serves, if not --backbone (an int8 one)")
    parser.add_argument("--onnx-dir", help="the .onnx files (default: beside the weights, else the shipped ones)")
    parser.add_argument("--onnx-provider", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--read-text", action="store_true", help="also read the text on each photo")
    parser.add_argument("--json")
    # One runtime's measurement, in a process of its own (the parent starts it).
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--runtime", help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    return parser


def main(args):
    if args.runtime:
        print(json.dumps(measure(args)))
        return None
    if not args.reference:
        raise SystemExit("Say which reference tree to build the index from: --reference DIR.")
    with tempfile.TemporaryDirectory(prefix="worker-cost-") as scratch:
        indexes = {}  # backbone: its index file
        for runtime in args.runtimes:
            backbone = _backbone_on(args, runtime)
            if backbone not in indexes:
                indexes[backbone] = os.path.join(scratch, f"{backbone}.npz")
                build_index(backbone, runtime, args, indexes[backbone])
        figures = {"backbone": args.backbone, "onnx_backbone": args.onnx_backbone, "threads": args.threads,
                   "photos": args.limit,
                   "runtimes": {runtime: in_own_process(args, runtime, indexes[_backbone_on(args, runtime)])
                                for runtime in args.runtimes}}
    figures["onnx_over_torch"] = ratios(figures["runtimes"])
    report(figures)
    from vision.figures import write_figures

    write_figures(figures, args.json)
    return figures


def _backbone_on(args, runtime):
    return args.onnx_backbone if runtime == "onnx" and args.onnx_backbone else args.backbone


def build_index(backbone, runtime, args, path):
    from bench.common import worker_categorizer

    _, categorizer = worker_categorizer(backbone, args.reference, runtime, args.onnx_dir)
    categorizer.index.save(path)


def in_own_process(args, runtime, index_path):
    command = [sys.executable, "-m", "bench.worker_cost", "--runtime", runtime, "--index", index_path,
               "--started", str(time.time()), *_passed_on(args)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{runtime} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _passed_on(args):
    passed = ["--photos", args.photos, "--backbone", args.backbone, "--limit", str(args.limit),
              "--threads", str(args.threads), "--onnx-provider", args.onnx_provider, "--passes", *map(str, args.passes)]
    return passed + (["--segmenter", args.segmenter] if args.segmenter else []) + (
        ["--onnx-dir", args.onnx_dir] if args.onnx_dir else []) + (["--read-text"] if args.read_text else [])


# --- one runtime, in its own process ---------------------------------------------------------

def measure(args):
    """The figures of one runtime (args.runtime), from this process's start (args.started)."""
    from vision.model_weights import ModelUnavailable

    try:
        categorizer, segmenter, reader = _worker_models(args)
    except (ImportError, ModelUnavailable) as error:
        return {"skipped": f"{type(error).__name__}: {error}"}
    from bench.common import one_pass
    from vision.catalogue import scan_catalogue

    photos = scan_catalogue(args.photos)
    paths = [photos[i].path for i in np.linspace(0, len(photos) - 1, min(args.limit, len(photos))).astype(int)]
    one_pass(paths[:1], categorizer, segmenter, reader)
    figures = {"cold_start_seconds": time.time() - args.started, "backbone": categorizer.embedder.weights.version,
               "runtime": categorizer.embedder.runtime, "segmenter": segmenter.version if segmenter else None,
               "device": str(getattr(categorizer.embedder, "device", None) or args.onnx_provider), "passes": {}}
    networks = _time_the_networks(categorizer, segmenter)
    for size in sorted(args.passes):
        one_pass(paths[:size], categorizer, segmenter, reader)  # warm-up: this pass size's allocations
        networks.clear()
        items, cpu, wall = 0, time.process_time(), time.perf_counter()
        for start in range(0, len(paths), size):
            items += one_pass(paths[start:start + size], categorizer, segmenter, reader)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        figures["passes"][size] = {
            "photos_per_second": len(paths) / wall, "cpu_seconds_per_photo": cpu / len(paths),
            "items_per_photo": items / len(paths), "network_seconds_per_photo": networks.total / len(paths),
            "cpu_side_share": 1 - networks.total / wall,
            # The peak so far: the pass sizes go up, so this is the peak of a worker at this size.
            "peak_resident_mb": _peak_resident_mb()}
    figures["peak_resident_mb"] = _peak_resident_mb()
    # Last: it holds every photo decoded at once, which no worker does.
    for size in sorted(args.passes):
        figures["passes"][size]["backbone_alone_images_per_second"] = _backbone_alone(categorizer.embedder, paths, size)
    figures["photos"] = len(paths)
    return figures


def _peak_resident_mb():
    """This process's peak resident memory since it started (Linux's VmHWM): unlike getrusage's
    maximum, not the parent's that a forked child inherits before it runs this program."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _worker_models(args):
    """(Categorizer, segmenter, text reader) as a worker on args.runtime loads them."""
    from vision.categorize import Categorizer
    from vision.index import ReferenceIndex
    from vision.runtimes import load_embedder, load_segmenter
    from vision.segment import DEFAULT_SEGMENTER
    from vision.splits import GROUPING_BACKBONE
    from vision.text import TextReader

    if args.runtime == "torch":
        import torch

        torch.set_num_threads(args.threads)
    load = dict(runtime=args.runtime, onnx_dir=args.onnx_dir, provider=args.onnx_provider)
    threads = dict(threads=args.threads) if args.runtime == "onnx" else {}
    index = ReferenceIndex.load(args.index)
    embedder = load_embedder(index.backbone_name, **load, **threads)
    novelty = load_embedder(GROUPING_BACKBONE, **load, **threads) if index.has_novelty_space else None
    segmenter = None if args.segmenter == "none" else load_segmenter(
        args.segmenter or DEFAULT_SEGMENTER, **load, **threads)
    reader = TextReader(threads=args.threads) if args.read_text else None
    return Categorizer(embedder, index, novelty_embedder=novelty), segmenter, reader


class _Clock:
    total = 0.0

    def clear(self):
        self.total = 0.0


def _time_the_networks(categorizer, segmenter):
    """A clock of the time spent inside the networks' passes (the ONNX Runtime sessions' runs,
    the PyTorch modules' forward passes), from now on."""
    clock = _Clock()
    for model in filter(None, (categorizer.embedder, categorizer.novelty_embedder, segmenter)):
        for attribute in ("_session", "backbone", "model"):
            if hasattr(model, attribute):
                setattr(model, attribute, _Timed(getattr(model, attribute), clock))
                break
    return clock


class _Timed:
    """A session or module whose run / forward passes are added to a clock."""

    def __init__(self, inner, clock):
        self._inner, self._clock = inner, clock

    def __call__(self, *args, **kwargs):
        return self._timed(self._inner, *args, **kwargs)

    def run(self, *args, **kwargs):
        return self._timed(self._inner.run, *args, **kwargs)

    def _timed(self, call, *args, **kwargs):
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self._clock.total += time.perf_counter() - started

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _backbone_alone(embedder, paths, size):
    """Images a second of the embedder alone on whole photos, `size` a pass."""
    from vision.images import load_image

    images = [load_image(path) for path in paths]
    kept, embedder.batch_size = embedder.batch_size, size
    try:
        embedder.embed(images[:size])  # warm-up
        started = time.perf_counter()
        embedder.embed(images)
        return len(images) / (time.perf_counter() - started)
    finally:
        embedder.batch_size = kept


# --- the report --------------------------------------------------------------------------------

def ratios(runtimes):
    """ONNX Runtime's photos/s (and the backbone's images/s) over PyTorch's, pass size by pass size."""
    torch_side, onnx_side = runtimes.get("torch", {}), runtimes.get("onnx", {})
    if "passes" not in torch_side or "passes" not in onnx_side:
        return None
    return {size: {key: onnx_side["passes"][size][key] / torch_side["passes"][size][key]
                   for key in ("photos_per_second", "backbone_alone_images_per_second")}
            for size in torch_side["passes"] if size in onnx_side["passes"]}


def report(figures):
    for runtime, found in figures["runtimes"].items():
        if "skipped" in found:
            print(f"{runtime}: skipped ({found['skipped']})")
            continue
        print(f"{found['backbone']} on {found['runtime']} ({found['device']}, {figures['threads']} thread(s)): "
              f"cold start {found['cold_start_seconds']:.2f} s, peak memory {found['peak_resident_mb']:.0f} MB")
        for size, one in found["passes"].items():
            print(f"  {size:>2} a pass: {one['photos_per_second']:.2f} photos/s ({one['items_per_photo']:.2f} items, "
                  f"{one['cpu_side_share']:.0%} outside the networks, peak memory {one['peak_resident_mb']:.0f} MB), "
                  f"backbone alone {one['backbone_alone_images_per_second']:.1f} images/s")
    for size, ratio in (figures["onnx_over_torch"] or {}).items():
        print(f"ONNX Runtime / PyTorch at {size} a pass: worker {ratio['photos_per_second']:.2f}x, "
              f"backbone alone {ratio['backbone_alone_images_per_second']:.2f}x")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
