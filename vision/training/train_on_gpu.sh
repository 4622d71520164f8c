#!/usr/bin/env bash
# The Grocery recipe, all of it, on a lent GPU machine: each ensemble member trained in turn
# (whole network, bf16 autocast on CUDA, 8 loader workers), the ensemble file, and the
# evaluation of each member and of the ensemble on the held-out fifth (5-fold CV) and on val.
# Run from the repository root:
#
#     vision/training/train_on_gpu.sh [NAME]      (default: grocery_gpu)
#
# Weights go to vision/weights/ (or $VISION_WEIGHTS_DIR), checkpoints to ~/.cache/catalog-training,
# figures to bench/results/; everything also to $OUT when it is set (the device tool brings that
# folder back). EPOCHS, SIZE and MEMBERS override the recipe, GROCERY and ECSSD the data; a rerun
# resumes each member. Smoke-tested on the CPU with a 4-leaf copy of Grocery (EPOCHS=1, SIZE=160).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:-grocery_gpu}
python=$(bin/venv)/bin/python
G=${GROCERY:-../shared/datasets/grocery-store/dataset}
E=${ECSSD:-../shared/datasets/ecssd/images}
epochs=${EPOCHS:-30}
size=${SIZE:-260}
members=()
for base in ${MEMBERS:-efficientnet_lite0 efficientnet_lite1 efficientnet_lite2}; do
  member=${name}_${base#efficientnet_}
  "$python" -m vision.training.train_embedder --data "$G/train" --val "$G/val" \
    --extra "$G/iconic-images-and-descriptions" --name "$member" --backbone "$base" \
    --train-blocks -1 --layer-decay 0.85 --image-size "$size" --epochs "$epochs" --eval-every 10 \
    --holdout-fraction 0.2 --keep last --workers 8 --resume
  members+=("\"$member\"")
done
weights=${VISION_WEIGHTS_DIR:-vision/weights}
(IFS=,; echo "{\"members\": [${members[*]}], \"description\": \"$name: whole-network members at $size px\"}") \
  > "$weights/$name.json"
for backbone in "${members[@]//\"/}" "$name"; do
  "$python" -m vision.evaluate --backbone "$backbone" --reference "$G/train" --cv 5 --holdout-fraction 0.2 \
    --outside "$E" --json "bench/results/gpu-$backbone-holdout-cv5.json"
  "$python" -m vision.evaluate --backbone "$backbone" --reference "$G/train" --queries "$G/val" \
    --outside "$E" --json "bench/results/gpu-$backbone-val.json"
done
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT/weights" "$OUT/results"
  cp "$weights/$name"* "$OUT/weights/"
  cp bench/results/gpu-"$name"* "$OUT/results/"
  for member in "${members[@]//\"/}"; do
    cp ~/.cache/catalog-training/"$member"/log.jsonl "$OUT/results/$member-training-log.jsonl"
  done
fi
