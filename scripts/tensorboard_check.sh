#!/usr/bin/env bash
# Reads the toy's training events with TensorBoard's own reader: makes a
# virtualenv (under target/, kept between runs) with TensorBoard's Python
# package, trains the toy into a temporary model directory, evaluates it,
# and checks that TensorBoard sees the loss every 100 steps, the step rate,
# the training graph, and the evaluation's loss at step 1000.
#
#   bash scripts/tensorboard_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/tensorboard-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import tensorboard, numpy" 2>/dev/null || "$venv/bin/pip" install -q "tensorboard==2.15.*" "numpy<2"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run -q --release -p estimator --example train -- \
  --model-dir "$work/model" --export-dir "$work/saved_model" >/dev/null 2>&1

"$venv/bin/python" - "$work/model" <<'PY'
import sys
from tensorboard.backend.event_processing import event_accumulator

def scalars(path):
    acc = event_accumulator.EventAccumulator(path)
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}

train = scalars(sys.argv[1])
graph = event_accumulator.EventAccumulator(sys.argv[1])
graph.Reload()
assert any(n.op == "MatMul" for n in graph.Graph().node), "no training graph"

assert [s for s, _ in train["loss"]] == list(range(100, 1001, 100)), train["loss"]
assert train["loss"][-1][1] < 1e-3, train["loss"]
assert all(v > 0 for _, v in train["global_step/sec"]), train["global_step/sec"]
evaluation = scalars(sys.argv[1] + "/eval")
assert [s for s, _ in evaluation["loss"]] == [1000], evaluation
print("TensorBoard reads", sum(len(v) for v in train.values()), "training scalars and the evaluation's loss",
      evaluation["loss"][0][1])
PY
