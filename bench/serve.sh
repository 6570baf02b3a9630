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
. .ci/lib.sh

fresh_dir() {
  dir=$(mktemp -d)
  port=$(free_port)
  pid=
  # `|| true`: the trap runs under `set -e`, and a server that already
  # exited makes `kill` and `wait` fail, which would skip the clean-up.
  trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
  cat > "$dir/limits.json" <<'JSON'
{"per_key": {"per_second": 1000000, "burst": 1000000}, "per_account": {"per_second": 1000000, "burst": 1000000}, "per_address": {"per_second": 1000000, "burst": 1000000}}
JSON
}

serve() {
  start_bangka "$dir" "$port" --rate-limits "$dir/limits.json" "$@" || exit 1
}
