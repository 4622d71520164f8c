"""The backbone alone on PyTorch and on ONNX Runtime, in one run on one machine: images a second
at 1, 8 and 32 images a pass, one thread, the same real photos (the ceiling the worker's path can
reach on each runtime, issue 36).

    python -m bench.runtime_ceiling --backbone NAME --onnx FILE --photos DIR [--limit 64] [--json FILE]

FILE is the backbone exported by vision/training/export_onnx.py. Each runtime embeds the photos
once to warm up, then is timed over all of them, pass by pass; the embeddings of the two are
compared too (the smallest cosine between a photo's two embeddings).
"""

import argparse
import time

import numpy as np
import torch

from vision.backbones import get_backbone
from vision.catalogue import scan_catalogue
from vision.embedder import Embedder
from vision.figures import write_figures
from vision.images import load_image
from vision.onnx_runtime import OnnxEmbedder

PASSES = (1, 8, 32)


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--photos", required=True)
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--json")
    return parser


def images_per_second(embedder, images):
    embedder.embed(images[:embedder.batch_size])  # warm-up at this pass size
    started = time.perf_counter()
    embedder.embed(images)
    return len(images) / (time.perf_counter() - started)


def main(args):
    torch.set_num_threads(1)
    photos = scan_catalogue(args.photos)
    chosen = np.linspace(0, len(photos) - 1, min(args.limit, len(photos))).astype(int)
    images = [load_image(photos[i].path) for i in chosen]
    backbone = get_backbone(args.backbone)
    figures = {"backbone": backbone.weights.version, "photos": len(images), "threads": 1, "passes": {}}
    for size in PASSES:
        torch_side = Embedder(backbone, device="cpu", batch_size=size)
        onnx_side = OnnxEmbedder(args.onnx, threads=1, batch_size=size)
        figures["passes"][size] = {"torch": images_per_second(torch_side, images),
                                   "onnx": images_per_second(onnx_side, images)}
        row = figures["passes"][size]
        print(f"{size:>2} a pass: PyTorch {row['torch']:.1f}, ONNX Runtime {row['onnx']:.1f} images/s "
              f"({row['onnx'] / row['torch']:.2f}x)")
    figures["min_cosine"] = float((Embedder(backbone, device="cpu").embed(images)
                                   * OnnxEmbedder(args.onnx, threads=1).embed(images)).sum(axis=1).min())
    print(f"smallest cosine between the two runtimes' embeddings: {figures['min_cosine']:.6f}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
