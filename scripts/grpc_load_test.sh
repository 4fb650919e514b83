#!/usr/bin/env bash
# Load test of the model server's gRPC API on loopback with h2load (Debian's
# nghttp2-client, installed if missing): the write-up's toy model, one row
# per Predict call, first checked once by a tonic client.
#
#   bash scripts/grpc_load_test.sh [requests] [connections] [streams per connection]
#
# Prints h2load's requests/s and latency. h2load cannot read gRPC's status
# trailer, so the script also counts the answers' bytes: every call must be
# answered with the body of a successful PredictResponse.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-500000}
connections=${2:-16}
streams=${3:-32}
port=8512

command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
cargo build -q --release -p serving --example grpc_request -p estimator --example train

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
./target/release/examples/train --model-dir "$work/model" --export-dir "$work/saved_model" >/dev/null 2>&1
./target/release/serving --model_name toy --model_base_path "$work/saved_model" --host 127.0.0.1 --port $port \
  > "$work/server.log" 2>&1 &
server=$!
until ./target/release/examples/grpc_request --out "$work/predict.bin" --check 127.0.0.1:$port > "$work/check.txt" 2>&1; do
  sleep 0.2
done
cat "$work/check.txt"

echo "== h2load -n $requests -c $connections -m $streams -t 1"
h2load -n "$requests" -c "$connections" -m "$streams" -t 1 -d "$work/predict.bin" \
  -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$port/tensorflow.serving.PredictionService/Predict" | tee "$work/h2load.txt"
# An error is answered with trailers only: every call answered with data
# got a PredictResponse.
framed=$(sed -n 's/^answer: \([0-9]*\) bytes framed$/\1/p' "$work/check.txt")
data=$(sed -n 's/.* (\([0-9]*\)) data$/\1/p' "$work/h2load.txt")
if [ "$data" != "$((requests * framed))" ] || ! grep -q "$requests succeeded, 0 failed, 0 errored" "$work/h2load.txt"; then
  echo "FAILED: expected $requests answers of $framed bytes, got $data bytes of data" >&2
  exit 1
fi
echo "all $requests calls answered with a PredictResponse"
