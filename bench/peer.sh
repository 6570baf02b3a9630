#!/usr/bin/env bash
# The peer script (../shared/peer-bench/run_side_by_side.sh) as the rounds in
# docs/benchmarks.md ran it: a copy with two edits, made fresh each time so
# it follows the script.
#   - `keys create --mode test`: a key is live unless told otherwise, and
#     the default server runs in test mode (a live key is refused there).
#   - `--rate-limits` far above the load: one wallet key drives the whole
#     run, and the per-key default (10,000/s) would measure the limit.
# Usage (the two juspay repositories fetched first, see the script's README):
#   BANGKA_BIN=target/release/bangka PEER_GIT_DIR=<git dir> FRAMEWORK_GIT_DIR=<git dir> \
#     WORK_DIR=/var/tmp/peer-work bench/peer.sh | tee peer-run.out
# With BANGKA_BIN=/bin/false it only builds the peer and the load generator
# (then stops at the key: the build is kept in WORK_DIR for the real run).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${PEER_BENCH:-$here/../shared/peer-bench}
[ -f "$src/run_side_by_side.sh" ] || { echo "no peer script at $src (set PEER_BENCH)" >&2; exit 1; }
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "$src"/. "$copy"/
script="$copy/run_side_by_side.sh"
grep -q 'keys create --role wallet' "$script" || { echo "the peer script changed: no 'keys create --role wallet'" >&2; exit 1; }
grep -q -- '--risk-rules "$RES/risk-rules.json"' "$script" || { echo "the peer script changed: no --risk-rules line" >&2; exit 1; }
sed -i -e 's/keys create --role wallet/keys create --role wallet --mode test/' \
  -e 's|--risk-rules "$RES/risk-rules.json"|--risk-rules "$RES/risk-rules.json" --rate-limits "$RES/limits.json"|' "$script"
# The limits file is written where the script writes its risk rules.
sed -i 's|^cat > "$RES/risk-rules.json" <<'"'"'JSON'"'"'$|printf '"'"'{"per_key":{"per_second":1000000,"burst":1000000},"per_account":{"per_second":1000000,"burst":1000000},"per_address":{"per_second":1000000,"burst":1000000}}\\n'"'"' > "$RES/limits.json"\n&|' "$script"
grep -q '> "$RES/limits.json"' "$script" || { echo "could not add the limits file" >&2; exit 1; }
bash "$script"
