#!/usr/bin/env bash
# The item finder's recipe with a GPU's budget: ECSSD, composites and every boxed Freiburg photo of
# the training part each epoch, a longer schedule from the shipped weights, then the measurements
# of bench/README.md ("Items on real photos"): Freiburg's validation part the worker's whole way,
# composites, ECSSD. Run from the repository root:
#
#     vision/training/train_segmenter_on_gpu.sh [NAME]      (default: unet_lite0_gpu)
#
# Weights go to vision/weights/segmenters/ (or $VISION_WEIGHTS_DIR), checkpoints to
# ~/.cache/catalog-training, figures to bench/results/; everything also to $OUT when it is set (the
# device tool brings that folder back). EPOCHS and COMPOSITES override the recipe; a rerun resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:-unet_lite0_gpu}
python=$(bin/venv)/bin/python
F=${FREIBURG:-../shared/datasets/freiburg-groceries}
E=${ECSSD:-../shared/datasets/ecssd}
"$python" -m vision.training.train_segmenter --name "$name" --init "${INIT:-unet_lite0}" \
  --instances "$F/instances.json" --photos "$F/photos" --boxed-per-epoch 4000 \
  --composites "${COMPOSITES:-3000}" --epochs "${EPOCHS:-20}" --eval-every 5 --keep last --workers 8 --resume
"$python" -m vision.evaluate_items --segmenter "$name" --reference "$F/photos" --photos "$F/photos" \
  --instances "$F/instances.json" --holdout-fraction 0.2 --json "bench/results/gpu-items-freiburg-$name.json"
"$python" -m vision.evaluate_segmentation --segmenter "$name" --composites 500 --seed 2000 \
  --images "$E/images" --masks "$E/masks" --split val --json "bench/results/gpu-segmentation-$name.json"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT/weights" "$OUT/results"
  cp "${VISION_WEIGHTS_DIR:-vision/weights}/segmenters/$name.pt" "$OUT/weights/"
  cp bench/results/gpu-*"$name"*.json "$OUT/results/"
  cp ~/.cache/catalog-training/"$name"/log.jsonl "$OUT/results/$name-training-log.jsonl"
fi
