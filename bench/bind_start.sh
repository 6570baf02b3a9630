#!/usr/bin/env bash
# Bind start (or read) alone, under the peer script's load generator
# (../shared/peer-bench/loadgen: one client thread, so the server, not the
# generator, is what queues): a fresh server on a fresh data directory,
# the peer script's risk rules and rate limits far above the load. Prints
# the generator's JSON line with the server's cores used. With SWITCHES=1
# it also records why SQLite's writer thread leaves the CPU, for
# `perf report -i /tmp/bangka-writer-switches.data --no-children`. With
# THREADS=1 it prints each busy server thread's cores and voluntary context
# switches a second over 5 s of the run (to stderr).
# The shared generator pre-creates 150 accounts per task per second of run
# (2,400/s in all): past that rate, point LOADGEN at a copy with a larger pool.
# Usage: BIN=target/release/bangka bench/bind_start.sh [bindstart|read] [CONCURRENCY] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bangka}
LOADGEN=${LOADGEN:-}
if [ -z "$LOADGEN" ]; then
  src=../shared/peer-bench/loadgen
  [ -d "$src" ] || { echo "no load generator: set LOADGEN or put the peer bench beside the checkout" >&2; exit 1; }
  cargo build --release -q --manifest-path "$src/Cargo.toml" --target-dir target/loadgen
  LOADGEN=target/loadgen/release/loadgen
fi
scenario=${1:-bindstart}; conc=${2:-64}; secs=${3:-10}
. bench/serve.sh
fresh_dir
# The peer script's rules: the same demo card binds on every account.
cat > "$dir/risk.json" <<'JSON'
{ "rules": [
  { "name": "account_failed_verifications", "signal": "failed_verification", "per": "account", "window": "1h", "threshold": 10, "action": "lock", "lock_for": "30m" }
] }
JSON
key=$("$BIN" keys create --role wallet --mode test --data-dir "$dir/data" 2>/dev/null | tail -1)
serve --risk-rules "$dir/risk.json"
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
"$LOADGEN" "http://127.0.0.1:$port" "$key" "$scenario" "$conc" "$secs" > "$dir/out.json" 2> "$dir/loadgen.err" &
lp=$!
# The measured window starts once the generator's set-up (accounts) ends.
if [ "$scenario" = bindstart ]; then
  for _ in $(seq 1 1200); do grep -q setup "$dir/loadgen.err" 2>/dev/null && break; sleep 0.1; done
fi
s0=$(cpu $pid); t0=$(date +%s.%N)
if [ -n "${SWITCHES:-}" ]; then
  sleep 2
  w=$(for t in /proc/$pid/task/*; do echo "$(cat "$t/comm") ${t##*/}"; done | grep "bangka-sqlite-w" | head -1 | awk '{print $2}')
  perf record -e sched:sched_switch --call-graph dwarf,16384 -t "$w" -o /tmp/bangka-writer-switches.data -- sleep 2 > /dev/null 2>&1
fi
if [ -n "${THREADS:-}" ]; then
  snap() { for t in /proc/$pid/task/*; do echo "${t##*/} $(tr ' ' _ < "$t/comm") $(awk '{print $14+$15}' "$t/stat") $(awk '/^voluntary/{print $2}' "$t/status")"; done | sort; }
  sleep 1; snap > "$dir/threads.a"; sleep 5; snap > "$dir/threads.b"
  join "$dir/threads.a" "$dir/threads.b" | awk -v hz="$(getconf CLK_TCK)" '{c=($6-$3)/hz/5; if (c>0.01) printf "%-24s %.2f cores  %d switches/s\n", $2, c, ($7-$4)/5}' | sort -k2 -nr >&2
fi
wait $lp
s1=$(cpu $pid); t1=$(date +%s.%N)
python3 -c "import json,sys; b=json.load(open(sys.argv[1])); b['server_cores']=round(($s1-$s0)/$(getconf CLK_TCK)/($t1-$t0),2); print(json.dumps(b,separators=(',',':')))" "$dir/out.json"
