#!/usr/bin/env bash
# PostgreSQL, one instance against two: starts N instances (default 1 and
# then 2) of `bangka serve` on one fresh schema (sharing the key files),
# runs one harness per instance at the same time (64 virtual users split
# between them) and prints each harness's JSON line and the total rate.
# Usage: bench/pg_instances.sh [SCENARIO] [DATABASE_URL]
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
BIN=${BIN:-target/release/bangka}
SCENARIO=${1:-bind}
DB=${2:-postgres://postgres@127.0.0.1:5432/postgres}
for n in 1 2; do
  dir=$(mktemp -d)
  schema="bench_$(date +%s)_$n"
  pids=()
  ports=()
  for i in $(seq 1 "$n"); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Limits far above the load: one wallet key drives it (see bench/fresh.sh).
    echo '{"per_key": {"per_second": 1000000, "burst": 1000000}, "per_account": {"per_second": 1000000, "burst": 1000000}, "per_address": {"per_second": 1000000, "burst": 1000000}}' > "$dir/limits.json"
    "$BIN" serve --data-dir "$dir/data" --database-url "$DB" --database-schema "$schema" --listen "127.0.0.1:$port" \
      --demo-population 3000000 --rate-limits "$dir/limits.json" > "$dir/server-$i.log" 2>&1 &
    pids+=($!)
    ports+=("$port")
    wait_ready "http://127.0.0.1:$port/readyz" "$dir/server-$i.log"
  done
  outs=()
  for i in $(seq 0 $((n - 1))); do
    "$BIN" bench --target "http://127.0.0.1:${ports[$i]}" --scenario "$SCENARIO" --duration 10s \
      --concurrency $((64 / n)) --offset $((1000000 * (i + 1) + RANDOM * 20)) > "$dir/bench-$i.json" 2>/dev/null &
    outs+=($!)
  done
  wait "${outs[@]}"
  cat "$dir"/bench-*.json
  python3 -c 'import json,sys; rs=[json.load(open(f)) for f in sys.argv[2:]]; print(json.dumps({"instances": int(sys.argv[1]), "scenario": rs[0]["scenario"], "total_rps": round(sum(r["rps"] for r in rs), 2), "errors": sum(r["errors"] for r in rs)}))' "$n" "$dir"/bench-*.json
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  psql -q "$DB" -c "DROP SCHEMA \"$schema\" CASCADE; DROP SCHEMA IF EXISTS \"${schema}_card_keys\" CASCADE;" >/dev/null 2>&1 || true
  rm -rf "$dir"
done
