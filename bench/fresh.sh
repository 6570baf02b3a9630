#!/usr/bin/env bash
# Starts a fresh server (new data directory), runs `bangka bench` with the
# given arguments against it, prints the JSON line, stops the server. The
# line gains the server's CPU and context switches per operation, counted
# from /proc around the run (a scenario's own set-up included, which
# matters for `unbind`).
# Usage: bench/fresh.sh [--database-url URL] -- --scenario bind --concurrency 64 --duration 10s
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bangka}
serve_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do serve_args+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
. bench/serve.sh
fresh_dir
serve --demo-population 2000000 ${serve_args[@]+"${serve_args[@]}"}
counts() { echo "$(awk '{print $14+$15}' "/proc/$pid/stat") $(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/"$pid"/task/*/status)"; }
before=$(counts)
"$BIN" bench --target "http://127.0.0.1:$port" "$@" 2>/dev/null > "$dir/bench.json"
after=$(counts)
python3 - "$dir/bench.json" $before $after <<'PY'
import json, os, sys
b = json.load(open(sys.argv[1]))
cpu = (int(sys.argv[4]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
ops = max(b.get("requests", 0), 1)
b["server_cpu_ms_per_op"] = round(1000 * cpu / ops, 2)
b["server_cores"] = round(cpu / max(b.get("duration_s", 1), 0.001), 2)
b["context_switches_per_op"] = round((int(sys.argv[5]) - int(sys.argv[3])) / ops, 1)
print(json.dumps(b, separators=(",", ":")))
PY
