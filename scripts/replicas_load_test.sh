#!/usr/bin/env bash
# Two replicas of the model server behind nginx (Debian's package, installed
# if missing) on loopback, as a load balancer spreads requests over pods:
# both replicas serve the same export base; wrk drives nginx while a new
# version is exported there, and each replica swaps it in on its own poll.
# Prints wrk's requests/s and latency percentiles, each replica's share of
# the requests, and fails if any request was not answered 200.
#
#   bash scripts/replicas_load_test.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
ports=(8521 8522)
front=8520

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
cargo build -q --release -p serving -p estimator --example train

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT
train() { ./target/release/examples/train --model-dir "$work/model" --export-dir "$work/saved_model" --max-steps "$1" >/dev/null 2>&1; }
train 1000

printf 'prometheus_config { enable: true }\n' > "$work/monitoring.config"
for port in "${ports[@]}"; do
  ./target/release/serving --model_name toy --model_base_path "$work/saved_model" --host 127.0.0.1 \
    --rest_api_port "$port" --port 0 --file_system_poll_wait_seconds 0.2 \
    --monitoring_config_file "$work/monitoring.config" > "$work/replica-$port.log" 2>&1 &
  pids+=($!)
done
for port in "${ports[@]}"; do
  until curl -sf "localhost:$port/readyz" >/dev/null; do sleep 0.1; done
done

# nginx as the load balancer: round robin, keep-alive to the replicas, a
# replica that fails a request's connection retried on the other.
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  upstream replicas {
    server 127.0.0.1:${ports[0]};
    server 127.0.0.1:${ports[1]};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$front;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
    }
  }
}
NGINX
nginx -c "$work/nginx.conf"
until curl -sf "localhost:$front/readyz" >/dev/null; do sleep 0.1; done

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"instances": [[101.0]]}'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== through nginx to 2 replicas: wrk -t1 -c16 -d${secs}s, a new version exported after 2 s"
wrk -t1 -c16 -d"${secs}s" --latency -s "$work/post.lua" "http://127.0.0.1:$front/v1/models/toy:predict" > "$work/wrk.txt" &
load=$!
sleep 2
train 1200
wait $load
cat "$work/wrk.txt"
for port in "${ports[@]}"; do
  served=$(curl -s "localhost:$port/monitoring/prometheus/metrics" \
    | sed -n 's/^:tensorflow:serving:request_count{model_name="toy",status="OK"} //p')
  swapped=$(grep -c "serving new versions" "$work/replica-$port.log" || true)
  echo "replica :$port answered $served requests; new versions served $swapped times (the first load, then the swap)"
done
if grep -q "Non-2xx\|Socket errors" "$work/wrk.txt"; then
  echo "FAILED: some requests were not answered 200" >&2
  exit 1
fi
echo "no failed request"
