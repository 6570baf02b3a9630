# Sourced by the bench scripts that measure a fresh server.
#   fresh_dir   sets $dir (a new temporary directory, removed at exit with
#               the server in it stopped) and $port (a free port), and
#               writes $dir/limits.json: rate limits far above any load. One
#               wallet key drives a whole run, and the per-key limit (10,000/s
#               by default, tests/api/limits.rs) would measure the limit, not
#               the server.
#   serve ARGS  starts "$BIN" serve on $dir/data and $port with those limits
#               and ARGS, sets $pid, and fails loudly, with the server's log,
#               if it does not come up.
fresh_dir() {
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pid=
  # `|| true`: the trap runs under `set -e`, and a server that already
  # exited makes `kill` and `wait` fail, which would skip the clean-up.
  trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
  cat > "$dir/limits.json" <<'JSON'
{"per_key": {"per_second": 1000000, "burst": 1000000}, "per_account": {"per_second": 1000000, "burst": 1000000}, "per_address": {"per_second": 1000000, "burst": 1000000}}
JSON
}

serve() {
  "$BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" --rate-limits "$dir/limits.json" "$@" > "$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "the server did not come up; its log:" >&2
  cat "$dir/server.log" >&2
  exit 1
}
