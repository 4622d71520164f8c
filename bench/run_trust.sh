#!/usr/bin/env bash
# The trust figures of bench/README.md ("Answers a catalogue team can trust"): calibration,
# auto-accept, "not in the catalogue" and listing decisions, for frozen Lite0 and the shipped
# Grocery embedder on Grocery, and for frozen Lite0 on Freiburg groceries. Run from the repository
# root with ../shared present; about 1.5 hours on the 2-core CPU. JSON (and reliability diagrams)
# go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bin/venv)/bin/python
G=../shared/datasets/grocery-store/dataset
F=../shared/datasets/freiburg-groceries/photos
E=../shared/datasets/ecssd/images
R=bench/results
for backbone in efficientnet_lite0 grocery_lite0; do
  "$python" -m vision.evaluate --backbone $backbone --reference $G/train --cv 5 --outside $E \
    --json $R/trust-$backbone-cv5.json
  "$python" -m vision.evaluate --backbone $backbone --reference $G/train --queries $G/val --outside $E \
    --json $R/trust-$backbone-val.json
  "$python" -m bench.outside_categories --backbone $backbone --reference $G/train --queries $G/val \
    --json $R/outside-categories-$backbone.json
  "$python" -m bench.listing_decisions --backbone $backbone --reference $G/train --queries $G/val \
    --json $R/listing-decisions-$backbone.json
done
"$python" -m vision.evaluate --reference $F --cv 5 --outside $E --json $R/trust-freiburg-efficientnet_lite0-cv5.json
