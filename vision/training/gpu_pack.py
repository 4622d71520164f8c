"""Build the GPU training pack: what a bare GPU machine (Python 3.12 and PyTorch, no registry)
lacks to train the Grocery members, in one folder that travels there with the working tree.

    python -m vision.training.gpu_pack [--grocery DIR] [--out .device] [--side 288] [--quality 75]
        [--backbones efficientnet_lite0 efficientnet_lite1] [--per-leaf N]

It writes, under --out (vision/training/train_on_gpu.sh runs it as `pack`):
- data/labelled: Grocery train and val as one tree (every labelled photo: they all train the shipped
  models) and data/iconic: the packshots; each photo's shorter side scaled to --side, as WebP
  (smaller than JPEG at the same size and quality), and content-keys.json, each copy's
  original's content key, which the weights record (train_embedder --content-keys);
- weights/imagenet/NAME.pth: each base backbone's ImageNet weights in fp16, where
  vision.backbones.efficientnet_lite looks when its weights package is missing;
- wheels/: the packages that machine lacks (WHEELS), downloaded from the registry once.
It prints what the pack weighs, and what a device call would carry with it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image

from ..backbones.efficientnet_lite import imagenet_file
from ..catalogue import scan_catalogue
from ..content_keys import content_key
from ..images import load_image
from .common import half_precision

# What the GPU machine's image lacks of what training imports (it has NumPy, Pillow, SciPy,
# scikit-image, OpenCV, tqdm, onnx): pure Python, so any Python takes it.
WHEELS = ["efficientnet-lite-pytorch==0.1.0"]
# A device call carries at most this much of the working tree, the pack included.
TRAVEL_LIMIT = 64 * 2**20
GROCERY = "../shared/datasets/grocery-store/dataset"
# The shipped weights (over 100 MB): the GPU run needs none of them.
SHIPPED_WEIGHTS = "vision/weights"


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grocery", default=GROCERY, help="the Grocery dataset (train, val, iconic-images-...)")
    parser.add_argument("--out", default=".device")
    parser.add_argument("--side", type=int, default=288, help="each copy's shorter side, in pixels")
    parser.add_argument("--quality", type=int, default=75, help="WebP quality")
    parser.add_argument("--backbones", nargs="+", default=["efficientnet_lite0", "efficientnet_lite1"])
    parser.add_argument("--per-leaf", type=int, help="at most this many photos a leaf from each split (tests)")
    return parser


def pack_photos(grocery, out, side, quality, per_leaf=None):
    """Downscaled WebP copies of Grocery's labelled photos and packshots; their originals' keys.
    Copies made before are kept, unless with other settings."""
    settings = {"grocery": os.path.abspath(grocery), "side": side, "quality": quality, "per_leaf": per_leaf}
    made = Path(out, "photos.json")
    if made.exists() and json.loads(made.read_text()) != settings:
        shutil.rmtree(Path(out, "data"), ignore_errors=True)
    made.parent.mkdir(parents=True, exist_ok=True)
    made.write_text(json.dumps(settings))
    keys = {}
    for split, target, prefix in (("train", "labelled", "train"), ("val", "labelled", "val"),
                                  ("iconic-images-and-descriptions", "iconic", "iconic")):
        taken = {}
        for image in scan_catalogue(os.path.join(grocery, split)):
            if per_leaf is not None and taken.setdefault(image.category, 0) >= per_leaf:
                continue
            taken[image.category] = taken.get(image.category, 0) + 1
            copy = Path(out, "data", target, *image.category, f"{prefix}-{Path(image.path).stem}.webp")
            if not copy.exists():
                copy.parent.mkdir(parents=True, exist_ok=True)
                _downscaled(load_image(image.path), side).save(copy, "WEBP", quality=quality)
            keys[str(copy.relative_to(out))] = content_key(image.path)
    (Path(out) / "content-keys.json").write_text(json.dumps(keys, indent=0, sort_keys=True))
    return len(keys)


def _downscaled(image, side):
    scale = side / min(image.size)
    if scale >= 1:
        return image
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)


def pack_imagenet_weights(backbones, out):
    folder = Path(out, "weights", "imagenet")
    folder.mkdir(parents=True, exist_ok=True)
    for name in backbones:
        state = torch.load(imagenet_file(name), map_location="cpu", weights_only=True)
        torch.save(half_precision(state), folder / f"{name}.pth")


def pack_wheels(out):
    folder = Path(out, "wheels")
    folder.mkdir(parents=True, exist_ok=True)
    if not any(folder.glob("*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "-d", str(folder), *WHEELS], check=True)


def size_of(paths):
    return sum(os.path.getsize(path) for path in paths if os.path.isfile(path))


def tree_sizes():
    """What of the working tree a device call carries (the tracked files and the untracked ones git
    does not ignore; the pack is ignored and named in the call's `carry`), and the part of it that
    is the shipped weights, which train_on_gpu.sh leave-weights keeps here for the call."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    files = [path for path in listed if path]
    return size_of(files), size_of(path for path in files if path.startswith(SHIPPED_WEIGHTS + "/"))


def main(args):
    photos = pack_photos(args.grocery, args.out, args.side, args.quality, args.per_leaf)
    pack_imagenet_weights(args.backbones, args.out)
    pack_wheels(args.out)
    tree, weights = tree_sizes()
    pack = size_of(Path(args.out).rglob("*"))
    carried = tree + pack
    print(f"{args.out}: {photos} photos, {len(args.backbones)} ImageNet weights, wheels: {pack / 2**20:.1f} MiB")
    print(f"a device call would carry {carried / 2**20:.1f} MiB with the shipped weights, "
          f"{(carried - weights) / 2**20:.1f} without them (vision/training/train_on_gpu.sh leave-weights), "
          f"of at most {TRAVEL_LIMIT / 2**20:.0f}")
    if carried - weights > TRAVEL_LIMIT:
        raise SystemExit("too much even without the shipped weights: pack fewer photos or backbones")
    return carried - weights


if __name__ == "__main__":
    main(get_args_parser().parse_args())
