#!/usr/bin/env bash
# Server-side batching under load: the MLP 784-512-512-10 served over gRPC,
# 32 concurrent clients each sending one row (784 floats in tensor_content)
# as soon as their last call is answered; calls/s and latency percentiles
# without batching, then with --enable_batching (max_batch_size 32, the
# other parameters TensorFlow Serving's defaults). With two cores or more,
# the server runs on core 0 and the load generator on core 1, so that the
# client's own work does not take the server's CPU.
#
#   bash scripts/batching_load_test.sh [seconds] [clients]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
clients=${2:-32}
port=8513
cargo build -q --release -p serving --bin serving --example grpc_load
cargo build -q --release --example write_mlp

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
./target/release/examples/write_mlp "$work/mlp" >/dev/null
printf 'max_batch_size { value: 32 }\n' > "$work/batching.config"
server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi

for mode in without with; do
  flags=()
  [ $mode = with ] && flags=(--enable_batching --batching_parameters_file "$work/batching.config")
  "${server_cpu[@]}" ./target/release/serving --model_name mlp --model_base_path "$work/mlp" --host 127.0.0.1 \
    --port $port "${flags[@]}" > "$work/server-$mode.log" 2>&1 &
  server=$!
  until grep -q '"serving"\|serving ' "$work/server-$mode.log" 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do
    sleep 0.1
  done
  echo "== $mode batching"
  "${client_cpu[@]}" ./target/release/examples/grpc_load 127.0.0.1:$port --model mlp --input x --width 784 \
    --clients "$clients" --seconds "$seconds" | tee "$work/$mode.txt"
  kill $server; wait $server 2>/dev/null || true; server=
done
without=$(sed -n 's/.*: \([0-9]*\) calls\/s.*/\1/p' "$work/without.txt")
with=$(sed -n 's/.*: \([0-9]*\) calls\/s.*/\1/p' "$work/with.txt")
awk -v a="$without" -v b="$with" 'BEGIN { printf "batching: %.2fx the calls/s\n", b / a }'
