"""CPU seconds per photo on the worker's path: decode, find the items, embed them (and judge
novelty), vote, decide, and draw each item's heatmap, as worker.categorizing does for one photo.

    python -m bench.worker_cost --backbone NAME --reference DIR --photos DIR [--limit 60] [--threads N]
        [--batch N] [--read-text] [--json FILE]

The index is built from --reference first (not counted). CPU seconds are the process's own
(all its threads together), so they are what a photo costs a machine however many workers it
runs; wall seconds are for one photo at a time with --threads intra-op threads. With --read-text,
the text on each photo is read too (vision.text), as the worker does on a listing's first photo.
With --batch N, photos go through in passes of N, as a worker with CATALOG_BATCH_PHOTOS=N takes
them (one segmentation pass, their items embedded together). For scale, the backbone alone embeds
the same photos whole, in its fastest passes (vision.embedder.PASS_SIZES: 2 images on a CPU, 32 on
a GPU): what the embedding step could do if it were all there was. The
networks run on the GPU when there is one (the JSON's `device`; bench/run_worker_gpu.sh).
"""

import argparse
import time

import numpy as np
import torch

from bench.common import one_pass, worker_categorizer
from vision.catalogue import scan_catalogue
from vision.figures import write_figures
from vision.images import load_image
from vision.onnx_runtime import OnnxEmbedder, onnx_path
from vision.segment import DEFAULT_SEGMENTER, OnnxSegmenter
from vision.text import TextReader
from vision.unet import load_segmenter


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--photos", required=True, help="a folder tree of photos to categorize")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--segmenter", default=DEFAULT_SEGMENTER, help="'none' to categorize whole photos")
    parser.add_argument("--limit", type=int, default=60, help="photos timed (spread over the tree)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads while timing")
    parser.add_argument("--batch", type=int, default=1, help="photos per pass (CATALOG_BATCH_PHOTOS)")
    parser.add_argument("--read-text", action="store_true", help="also read the text on each photo")
    parser.add_argument("--onnx-dir", help="run the networks on ONNX Runtime, from the files "
                                           "vision.training.export_onnx wrote there (the backbone's, the novelty "
                                           "one's and the segmenter's)")
    parser.add_argument("--json")
    return parser


def backbone_alone_images_per_second(embedder, paths):
    images = [load_image(path) for path in paths]
    embedder.embed(images[:embedder.batch_size])  # warm-up
    started = time.perf_counter()
    embedder.embed(images)
    return len(images) / (time.perf_counter() - started)


def main(args):
    _, categorizer = worker_categorizer(args.backbone, args.reference)
    if args.onnx_dir:  # the same weights, so the index built on PyTorch serves as it is
        categorizer.embedder = OnnxEmbedder(onnx_path(args.backbone, args.onnx_dir), threads=args.threads)
        if categorizer.novelty_embedder is not None:
            categorizer.novelty_embedder = OnnxEmbedder(
                onnx_path(categorizer.novelty_embedder.weights.name, args.onnx_dir), threads=args.threads)
    embedder = categorizer.embedder
    segmenter = None if args.segmenter == "none" else (
        OnnxSegmenter(onnx_path(args.segmenter, args.onnx_dir), threads=args.threads) if args.onnx_dir
        else load_segmenter(args.segmenter))
    photos = scan_catalogue(args.photos)
    photos = [photos[i] for i in np.linspace(0, len(photos) - 1, min(args.limit, len(photos))).astype(int)]

    torch.set_num_threads(args.threads)
    reader = TextReader(threads=args.threads) if args.read_text else None
    paths = [photo.path for photo in photos]
    one_pass(paths[:args.batch], categorizer, segmenter, reader)  # warm-up: lazy allocations, kernel choice
    items, cpu, wall = 0, time.process_time(), time.perf_counter()
    for start in range(0, len(paths), args.batch):
        items += one_pass(paths[start:start + args.batch], categorizer, segmenter, reader)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    figures = {
        "backbone": embedder.weights.version,
        "runtime": embedder.runtime,
        "segmenter": segmenter.version if segmenter else None,
        "text": reader.version if reader else None,
        "photos": len(photos),
        "items_per_photo": items / len(photos),
        "device": str(getattr(embedder, "device", "cpu")),
        "threads": args.threads,
        "batch": args.batch,
        "cpu_seconds_per_photo": cpu / len(photos),
        "wall_seconds_per_photo": wall / len(photos),
        "photos_per_second": len(photos) / wall,
        "backbone_alone_images_per_second": backbone_alone_images_per_second(embedder, paths),
    }
    print(f"{figures['backbone']} on {embedder.runtime}: {figures['cpu_seconds_per_photo']:.3f} CPU-s and "
          f"{figures['wall_seconds_per_photo']:.3f} s per photo ({figures['items_per_photo']:.2f} items, "
          f"{args.threads} thread(s), {len(photos)} photos, {args.batch} per pass); the backbone alone: "
          f"{figures['backbone_alone_images_per_second']:.1f} images/s")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
