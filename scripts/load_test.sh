#!/usr/bin/env bash
# Load test of the model server on loopback with wrk (Debian's package,
# installed if missing): the write-up's toy model at batch 1, then again
# while a new version is exported and hot-swapped in.
#
#   bash scripts/load_test.sh [seconds]
#
# Prints wrk's requests/s and latency percentiles for both runs, and fails
# if any request of the swap run was not answered 200.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
port=8511

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release -p serving -p estimator --example train

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
train() { ./target/release/examples/train --model-dir "$work/model" --export-dir "$work/saved_model" --max-steps "$1" >/dev/null 2>&1; }
train 1000

./target/release/serving --model_name toy --model_base_path "$work/saved_model" --rest_api_port $port --port 0 \
  --file_system_poll_wait_seconds 0.2 > "$work/server.log" 2>&1 &
server=$!
until curl -sf "localhost:$port/readyz" >/dev/null; do sleep 0.1; done

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"instances": [[101.0]]}'
wrk.headers["Content-Type"] = "application/json"
LUA
url="http://127.0.0.1:$port/v1/models/toy:predict"

echo "== steady: wrk -t1 -c8 -d${secs}s"
wrk -t1 -c8 -d"${secs}s" --latency -s "$work/post.lua" "$url" | tee "$work/steady.txt"

echo "== during a version swap: wrk -t1 -c8 -d${secs}s, a new version exported after 2 s"
wrk -t1 -c8 -d"${secs}s" --latency -s "$work/post.lua" "$url" > "$work/swap.txt" &
load=$!
sleep 2
train 1200
wait $load
cat "$work/swap.txt"
grep -c "serving new version" "$work/server.log" | xargs echo "versions served:"
if grep -q "Non-2xx" "$work/swap.txt"; then
  echo "FAILED: some requests were not answered 200 during the swap" >&2
  exit 1
fi
echo "no failed request during the swap"
