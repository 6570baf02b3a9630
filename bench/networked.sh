#!/usr/bin/env bash
# Complete binds behind a bank over the network (issue 15): for each bank
# latency given (default: 0s and 50ms), a fresh simulator service with that
# latency and a fresh `bangka serve --issuer-url` in front of it, then
# `bangka bench --scenario bind`; one JSON line per latency, then the ratio
# of the last figure to the first.
# Usage: bench/networked.sh [--concurrency 64] [--duration 10s] [--latencies "0s 50ms"]
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
BIN=${BIN:-target/release/bangka}
concurrency=64 duration=10s latencies="0s 50ms"
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --latencies) latencies=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
population=2000000
first="" last=""
for latency in $latencies; do
  dir=$(mktemp -d)
  sim_port=$(free_port) port=$(free_port)
  "$BIN" simulator serve --listen "127.0.0.1:$sim_port" --latency "$latency" --keys "$dir/issuer-keys.json" \
    --demo-population "$population" > "$dir/sim.log" 2>&1 &
  sim=$!
  wait_ready "http://127.0.0.1:$sim_port/healthz" "$dir/sim.log"
  "$BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" --demo-population "$population" \
    --issuer-url "http://127.0.0.1:$sim_port" --issuer-keys "$dir/issuer-keys.json" > "$dir/server.log" 2>&1 &
  srv=$!
  trap 'kill $srv $sim 2>/dev/null; wait $srv $sim 2>/dev/null; rm -rf "$dir"' EXIT
  wait_ready "http://127.0.0.1:$port/readyz" "$dir/server.log"
  line=$("$BIN" bench --target "http://127.0.0.1:$port" --scenario bind --duration "$duration" --concurrency "$concurrency" 2>/dev/null)
  echo "{\"bank_latency\":\"$latency\",\"result\":$line}"
  rps=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rps"])' "$line")
  first=${first:-$rps} last=$rps
  kill $srv $sim 2>/dev/null; wait $srv $sim 2>/dev/null || true
  rm -rf "$dir"
  trap - EXIT
done
python3 -c 'import sys; a, b = map(float, sys.argv[1:]); print(f"binds/s at the last latency over the first: {b / a:.2f}")' "$first" "$last"
