#!/usr/bin/env bash
# How latency grows with the store: fills one data directory to 10 k, 1 M
# and 10 M bound cards (bangka fill), and at each size runs the harness
# (read, pay, bind; 64 concurrent, 10 s) against a server on it. Appends
# one JSON line per measurement to $OUT (default bench/scale-results.jsonl).
# Usage: bench/scale.sh [DATA_DIR] [SIZES...]   e.g. bench/scale.sh /var/tmp/scale 10000 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
BIN=${BIN:-target/release/bangka}
DIR=${1:-/var/tmp/bangka-scale}
shift || true
SIZES=("${@:-10000 1000000 10000000}")
OUT=${OUT:-bench/scale-results.jsonl}
have=0
[ -f "$DIR/bangka.db" ] && have=$("$BIN" fill --cards 0 --data-dir "$DIR" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bound_cards_in_store"])')
for size in ${SIZES[@]}; do
  if [ "$size" -gt "$have" ]; then
    fill=$("$BIN" fill --cards $((size - have)) --from "$have" --data-dir "$DIR" 2>/dev/null)
    echo "{\"step\":\"fill\",\"size\":$size,\"fill\":$fill}" | tee -a "$OUT"
    have=$size
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # Fills take population cards from 0 up; the harness binds from 10 M up
  # (past any fill), so a later fill never meets a holder a bench signed up.
  "$BIN" serve --data-dir "$DIR" --listen "127.0.0.1:$port" --demo-population 12000000 > "$DIR.server.log" 2>&1 &
  pid=$!
  wait_ready "http://127.0.0.1:$port/readyz" "$DIR.server.log"
  for scenario in read pay bind; do
    r=$("$BIN" bench --target "http://127.0.0.1:$port" --scenario "$scenario" --duration 10s --concurrency 64 --offset "$((10000000 + RANDOM * 50))" 2>/dev/null)
    echo "{\"step\":\"bench\",\"size\":$size,\"result\":$r}" | tee -a "$OUT"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
