#!/usr/bin/env bash
# The Python package's tests: makes a virtualenv (under target/, kept
# between runs) with maturin, numpy, pytest and Flask; builds the extension
# into it; exports the toy and the text classifier with the estimator's
# examples and records the Rust predictor's answers (saved_model_cli run
# --outdir); runs pytest on crates/python/tests.
#
#   bash scripts/python_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import maturin, numpy, pytest, flask" 2>/dev/null \
  || "$venv/bin/pip" install -q "maturin>=1.7,<2" "numpy<3" "pytest>=7" "flask>=2"
VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" maturin develop -q --release -m crates/python/Cargo.toml

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cli=(cargo run -q --release -p predictor --features cli --bin saved_model_cli --)
mkdir -p "$work/toy" "$work/text"
cargo run -q --release -p estimator --example train -- \
  --model-dir "$work/toy/model" --export-dir "$work/toy/saved_model" >/dev/null 2>&1
"${cli[@]}" run --dir "$(ls -d "$work"/toy/saved_model/[0-9]* | tail -1)" --tag_set serve \
  --signature_def serving_default --input_exprs 'number=[[101.0]]' --outdir "$work/toy/answers" >/dev/null
(cd "$work/text" && cargo run -q --release --manifest-path "$OLDPWD/Cargo.toml" -p estimator --example text_classifier >/dev/null 2>&1)
"${cli[@]}" run --dir "$(ls -d "$work"/text/text_model/saved_model/[0-9]* | tail -1)" --tag_set serve \
  --signature_def serving_default \
  --input_exprs 'words=[["tennis","really","great","","",""],["spicy","zorblax","soup","","",""]]' \
  --outdir "$work/text/answers" >/dev/null

ESTIMATOR_RS_WORK="$work" "$venv/bin/python" -m pytest -q crates/python/tests
