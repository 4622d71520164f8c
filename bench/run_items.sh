#!/usr/bin/env bash
# Every figure of bench/README.md "Items on real photos (issue 17)", in the order they were made, and
# with `detector`, `detector-adapt` and `freiburg-embedder` those of "One box per product" (issue 39).
# SEGMENTER names the segmenter measured (default: the shipped one). On PyTorch, as they were made
# (the float segmenter; the worker on ONNX Runtime serves its int8 copy, bench/README.md). Run from the
# repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bin/venv)/bin/python
seg=${SEGMENTER:-unet_lite0_real}
F=../shared/datasets/freiburg-groceries
G=../shared/datasets/grocery-store/dataset
E=../shared/datasets/ecssd
R=bench/results
step=${1:-all}
if [ "$step" = all ] || [ "$step" = grocery-off ]; then
  "$python" -m vision.evaluate --backbone grocery_lite0 --reference "$G/train" --holdout-fraction 0.2 \
    --json "$R/items-grocery-holdout-whole.json"
  "$python" -m vision.evaluate --backbone grocery_lite0 --reference "$G/train" --queries "$G/val" \
    --json "$R/items-grocery-val-whole.json"
fi
# "before": the segmenter of issue 5 with its post-processing (nothing merged, nothing dropped by
# size; the defaults when these figures were made).
issue5="merge_inside=none,min_share=0"
if [ "$step" = all ] || [ "$step" = before ]; then
  "$python" -m vision.evaluate_items --runtime torch --segmenter unet_lite0 --post-processing "$issue5" \
    --reference "$F/photos" --photos "$F/photos" --instances "$F/instances.json" --holdout-fraction 0.2 \
    --json "$R/items-freiburg-val-unet_lite0.json"
  "$python" -m bench.items_in_hand --segmenter unet_lite0 --post-processing "$issue5" \
    --json "$R/items-in-hand-unet_lite0.json"
fi
if [ "$step" = all ] || [ "$step" = tune ]; then
  "$python" -m bench.tune_real_items --segmenter "$seg" --sample 200 --json "$R/items-tuning.json"
fi
if [ "$step" = all ] || [ "$step" = measure ]; then
  "$python" -m vision.evaluate_items --runtime torch --segmenter "$seg" --reference "$F/photos" --photos "$F/photos" \
    --instances "$F/instances.json" --holdout-fraction 0.2 --json "$R/items-freiburg-val-$seg.json"
  "$python" -m bench.items_in_hand --segmenter "$seg" --json "$R/items-in-hand-$seg.json"
  "$python" -m vision.evaluate_segmentation --runtime torch --segmenter "$seg" --composites 500 --seed 2000 \
    --images "$E/images" --masks "$E/masks" --split val --json "$R/segmentation-$seg.json"
  "$python" -m vision.evaluate --backbone grocery_lite0 --reference "$G/train" --holdout-fraction 0.2 \
    --segmenter "$seg" --json "$R/items-grocery-holdout-$seg.json"
  "$python" -m vision.evaluate --backbone grocery_lite0 --reference "$G/train" --queries "$G/val" \
    --segmenter "$seg" --json "$R/items-grocery-val-$seg.json"
fi
# "adapted" (not part of "all": it trains for about an hour here): main item accuracy with an
# embedder adapted to the Freiburg catalogue on the photos outside the validation part.
if [ "$step" = adapted ]; then
  weights=$HOME/.cache/catalog-training/scratch-weights
  mkdir -p "$weights/segmenters"
  ln -sf "$PWD/vision/weights/segmenters/$seg.pt" "$weights/segmenters/"
  VISION_WEIGHTS_DIR=$weights "$python" -m vision.training.train_embedder --data "$F/photos" --name freiburg_lite0_8 \
    --holdout-fraction 0.2 --epochs 8 --eval-every 100 --keep last
  VISION_WEIGHTS_DIR=$weights "$python" -m vision.evaluate_items --runtime torch --backbone freiburg_lite0_8 \
    --segmenter "$seg" --reference "$F/photos" --photos "$F/photos" --instances "$F/instances.json" --holdout-fraction 0.2 \
    --json "$R/items-freiburg-val-$seg-freiburg_lite0_8.json"
fi
# "detector-adapt [GROUP:NAME ...]" (not part of "all": 35-50 minutes a group here, 5-10 once its base detector is
# trained): manage.py train_detector's default recipe on a catalogue the detector never saw, a Freiburg group,
# adapting a detector trained on the other groups, then each blend of the two measured on the held-out photos
# (default: the four groups measured, e.g. `bench/run_items.sh detector-adapt Pantry:pantry` for one).
if [ "$step" = detector-adapt ]; then
  shift
  groups=("$@")
  [ ${#groups[@]} -gt 0 ] || groups=(Breakfast:breakfast "Sweets and snacks:sweets" Pantry:pantry Baking:baking)
  weights=$HOME/.cache/catalog-training/scratch-weights
  mkdir -p "$weights/segmenters"
  ln -sf "$PWD"/vision/weights/segmenters/*.pt "$weights/segmenters/"
  bin/secret-key  # manage.py's settings want one
  for group in "${groups[@]}"; do
    name=${group#*:} out=/tmp/leave-${group#*:}-out
    "$python" -m bench.leave_group_out --group "${group%%:*}" --out "$out"
    # A base already trained is kept (delete it to train it again): recipes compare on one base (trained
    # again, Breakfast's came out the same, Baking's and Pantry's did not), and it takes 40 minutes.
    if [ ! -f "$weights/segmenters/detector_without_$name.pt" ]; then
      OMP_NUM_THREADS=2 VISION_WEIGHTS_DIR=$weights "$python" -m vision.training.train_detector \
        --instances "$out/without.json" --photos "$F/photos" --name "detector_without_$name"
      cp "$HOME/.cache/catalog-training/detector_without_$name/log.jsonl" "$R/detector_without_$name-training-log.jsonl"
    fi
    OMP_NUM_THREADS=2 VISION_WEIGHTS_DIR=$weights "$python" manage.py train_detector "detector_$name" \
      --init "detector_without_$name" --instances "$out/group.json" --photos "$F/photos" \
      --json "$R/detector-adapt-$name.json"
    cp "$HOME/.cache/catalog-training/detector_$name/log.jsonl" "$R/detector_$name-training-log.jsonl"
    OMP_NUM_THREADS=2 VISION_WEIGHTS_DIR=$weights "$python" -m bench.detector_blends --name "detector_$name" \
      --init "detector_without_$name" --instances "$out/group.json" --photos "$F/photos" \
      --json "$R/detector-blends-$name.json"
  done
fi
# "freiburg-embedder" (not part of "all": about 20 minutes here): the shipped freiburg_lite0, train_embedder's
# defaults on the Freiburg photos outside the validation part (vision/training/README.md).
if [ "$step" = freiburg-embedder ]; then
  OMP_NUM_THREADS=2 "$python" -m vision.training.train_embedder --data "$F/photos" --name freiburg_lite0 \
    --holdout-fraction 0.2 --eval-every 100 --keep last
  cp "$HOME/.cache/catalog-training/freiburg_lite0/log.jsonl" "$R/freiburg_lite0-shipped-training-log.jsonl"
fi
# "detector" (not part of "all": training takes about 50 minutes here): the product detector trained,
# then measured as the worker serves it (ONNX Runtime) beside the UNet the worker served before it.
if [ "$step" = detector ] || [ "$step" = detector-measure ]; then
  if [ "$step" = detector ]; then
    OMP_NUM_THREADS=2 "$python" -m vision.training.train_detector --instances "$F/instances.json" --photos "$F/photos" \
      --name detector_lite0
    cp "$HOME/.cache/catalog-training/detector_lite0/log.jsonl" "$R/detector_lite0-training-log.jsonl"
  fi
  for finder in detector_lite0 unet_lite0_real_int8; do
    "$python" -m vision.evaluate_items --segmenter "$finder" --reference "$F/photos" --photos "$F/photos" \
      --instances "$F/instances.json" --holdout-fraction 0.2 --json "$R/items-freiburg-val-$finder.json"
  done
  # With the embedder the Freiburg catalogue would train (the shipped freiburg_lite0: step freiburg-embedder).
  "$python" -m vision.evaluate_items --backbone freiburg_lite0 --reference "$F/photos" --photos "$F/photos" \
    --instances "$F/instances.json" --holdout-fraction 0.2 --json "$R/items-freiburg-val-detector_lite0-freiburg_lite0.json"
  # How the main item seen whole and the boxes behind the subject were chosen: on the detector's tuning part.
  "$python" -m bench.detector_rules --json "$R/detector-rules-tuning.json"
  "$python" -m bench.items_in_hand --segmenter detector_lite0 --json "$R/items-in-hand-detector_lite0.json"
  "$python" -m bench.detector_outlines --json "$R/detector-outlines.json"
  # Why the detector's network stays in float.
  "$python" -m bench.segmenter_int8 --segmenter detector_lite0 --json "$R/detector-int8-variants.json"
  # Grocery, photo by photo: the detector against the UNet and the photo seen whole, on the held-out fifth and on
  # val (the predictions in a scratch folder; the UNet's and the whole photo's figures are issue 17's files).
  P=$(mktemp -d)
  for finder in detector_lite0 unet_lite0_real whole; do
    with=(--segmenter "$finder"); [ "$finder" = whole ] && with=()
    figures=(); [ "$finder" = detector_lite0 ] && figures=(--json "$R/items-grocery-PART-$finder.json")
    "$python" -m vision.evaluate --runtime torch --backbone grocery_lite0 --reference "$G/train" --holdout-fraction 0.2 \
      "${with[@]}" "${figures[@]/PART/holdout}" --predictions "$P/holdout-$finder.csv"
    "$python" -m vision.evaluate --runtime torch --backbone grocery_lite0 --reference "$G/train" --queries "$G/val" \
      "${with[@]}" "${figures[@]/PART/val}" --predictions "$P/val-$finder.csv"
  done
  for part in holdout val; do
    "$python" -m bench.paired_predictions "$P/$part-unet_lite0_real.csv" "$P/$part-detector_lite0.csv" "$P/$part-whole.csv" \
      --json "$R/paired-grocery-$part.json"
    "$python" -m bench.paired_predictions "$P/$part-whole.csv" "$P/$part-detector_lite0.csv" \
      --json "$R/paired-grocery-$part-whole.json"
  done
  rm -r "$P"
  for finder in detector_lite0 unet_lite0_real_int8; do
    "$python" -m bench.worker_cost --backbone grocery --onnx-backbone grocery_int8 --runtimes onnx --reference "$G/val" \
      --photos "$F/photos" --limit 30 --passes 1 --segmenter "$finder" --json "$R/worker-cost-items-$finder.json"
  done
fi
