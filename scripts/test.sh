#!/usr/bin/env bash
# Every test: the workspace's (Rust, doc tests included); the plans and the
# TensorFlow fixtures again on the narrower kernels (the kernels' own tests
# run every instruction set the CPU has); TensorBoard's own reader on the
# estimator's event files (a virtualenv the script makes); the Python
# package's tests (pytest, in a virtualenv the script makes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
for isa in avx2 portable; do
  PREDICTOR_ISA=$isa cargo test -q -p estimator-rs --test plan --test tensorflow --test loops
done
bash scripts/tensorboard_check.sh
bash scripts/python_test.sh
