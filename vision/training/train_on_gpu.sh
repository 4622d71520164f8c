#!/usr/bin/env bash
# The shipped Grocery members trained on every labelled photo (train, val and the packshots) on a
# lent GPU machine, which has Python and PyTorch but no registry and none of this project's data.
#
#     vision/training/train_on_gpu.sh pack          here: build .device/ (vision.training.gpu_pack)
#     vision/training/train_on_gpu.sh run [NAME]    there: train every member; weights and logs to $OUT
#     vision/training/train_on_gpu.sh leave-weights | restore-weights    around the device call
#
# `run` installs the pack's wheels, points VISION_WEIGHTS_DIR at the pack (the ImageNet weights in
# fp16; the trained ones are written there) and trains each member with its recipe (the epochs
# chosen on the held-out fifth, vision/training/README.md) on data/labelled and data/iconic, the
# weights recording the originals' content keys. All members share MINUTES (8): one still training
# then stops after its last whole epoch. Each member's weights (NAME_MEMBER.pt, fp16) and log go
# to $OUT (2 files a member; the device brings back 8).
# Back here: vision/training/README.md, "The GPU pack".
#
# Overrides: MEMBERS ("suffix:base:blocks:layer-decay:epochs ..."), SIZE (224), INIT_DIR (a folder
# in the pack, e.g. .device/init, of NAME_MEMBER.pt to go on from: an earlier call's), PYTHON
# (python3), DEVICE, WORKERS (8), MAX_STEPS (a dry run), PACK (.device); for pack, GROCERY and
# PER_LEAF (a few photos a leaf: the tests' dry run).
set -euo pipefail
cd "$(dirname "$0")/../.."
verb=${1:?"say pack, run, leave-weights or restore-weights"}
name=${2:-grocery_all}
pack=$(realpath -m "${PACK:-.device}")
members=${MEMBERS:-"lite0:efficientnet_lite0:4:1.0:12 lite0_full:efficientnet_lite0:-1:0.85:18 lite1:efficientnet_lite1:4:1.0:12"}

case "$verb" in
pack)
  bases=$(for m in $members; do echo "$m" | cut -d: -f2; done | sort -u)
  # shellcheck disable=SC2086
  exec "$(bin/venv)/bin/python" -m vision.training.gpu_pack --out "$pack" --backbones $bases \
    ${GROCERY:+--grocery "$GROCERY"} ${PER_LEAF:+--per-leaf "$PER_LEAF"} ;;
run)
  python=${PYTHON:-python3}
  out=${OUT:-$pack/out}
  mkdir -p "$out" "$pack/site"
  "$python" -m pip install --quiet --no-index --no-deps --target "$pack/site" "$pack"/wheels/*.whl
  export PYTHONPATH="$pack/site${PYTHONPATH:+:$PYTHONPATH}" VISION_WEIGHTS_DIR="$pack/weights"
  deadline=$(( $(date +%s) + ${MINUTES:-8} * 60 ))
  for member in $members; do
    IFS=: read -r suffix base blocks decay epochs <<< "$member"
    left=$(( deadline - $(date +%s) ))
    if [ "$left" -le 0 ]; then echo "out of time: ${name}_$suffix not started" >&2; continue; fi
    init=()
    if [ -n "${INIT_DIR:-}" ]; then
      # vision/weights stays behind for the call: files to go on from travel in the pack.
      [ -f "$INIT_DIR/${name}_$suffix.pt" ] || { echo "no $INIT_DIR/${name}_$suffix.pt to go on from" >&2; exit 1; }
      init=(--init "$INIT_DIR/${name}_$suffix.pt")
    fi
    # Past the time left the member stops where it is: --keep last saved its last whole epoch.
    timeout "$left" "$python" -m vision.training.train_embedder --data "$pack/data/labelled" \
      --extra "$pack/data/iconic" --content-keys "$pack/content-keys.json" --name "${name}_$suffix" \
      --backbone "$base" --train-blocks "$blocks" --layer-decay "$decay" --image-size "${SIZE:-224}" \
      --epochs "$epochs" --keep last --no-onnx --workers "${WORKERS:-8}" \
      --output-dir "$pack/training/${name}_$suffix" \
      ${DEVICE:+--device "$DEVICE"} ${MAX_STEPS:+--max-steps "$MAX_STEPS"} ${init[@]+"${init[@]}"} \
      || echo "${name}_$suffix stopped (exit $?): what it saved comes back" >&2
    if [ -f "$pack/weights/${name}_$suffix.pt" ]; then cp "$pack/weights/${name}_$suffix.pt" "$out/"; fi
    cp "$pack/training/${name}_$suffix/log.jsonl" "$out/${name}_$suffix-training-log.jsonl" 2>/dev/null || true
  done ;;
leave-weights)
  # A device call carries the tracked files, 64 MiB at most with the pack: the shipped weights
  # (over 100 MB, none of which the run needs) are untracked and ignored for the call's time.
  if ! git diff --cached --quiet -- vision/weights; then
    echo "changes to vision/weights are staged: commit or unstage them first" >&2; exit 1
  fi
  git rm -r -q --cached vision/weights
  exclude=$(git rev-parse --git-path info/exclude)
  grep -qx '/vision/weights/' "$exclude" 2>/dev/null || echo '/vision/weights/' >> "$exclude"
  echo "vision/weights stays here for the device call. Commit nothing before: $0 restore-weights" ;;
restore-weights)
  sed -i '\#^/vision/weights/$#d' "$(git rev-parse --git-path info/exclude)"
  git reset -q -- vision/weights
  git status --short -- vision/weights ;;
*)
  echo "say pack, run, leave-weights or restore-weights, not $verb" >&2; exit 2 ;;
esac
