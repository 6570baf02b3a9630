# Sourced by the CI and bench scripts that start a server of their own.
#   free_port             prints a free loopback port
#   wait_ready URL LOG [PID]
#                         waits up to 20 s for URL to answer (less if the
#                         process PID exits first); if it does not, prints
#                         the last lines of LOG and fails: a script never
#                         goes on against a server that is not there.
#   start_bangka DIR PORT [ARGS...]
#                         starts "$BIN" serve on DIR/data and PORT with ARGS,
#                         its log in DIR/server.log, sets $pid and waits for
#                         /readyz as above.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() {
  local url=$1 log=$2 proc=${3:-}
  for _ in $(seq 1 200); do
    curl -sf "$url" >/dev/null && return 0
    if [ -n "$proc" ] && ! kill -0 "$proc" 2>/dev/null; then
      echo "the server exited before it was ready ($url); the last lines of $log:" >&2
      tail -40 "$log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "not ready after 20 s: $url; the last lines of $log:" >&2
  tail -40 "$log" >&2 || true
  return 1
}

start_bangka() {
  local dir=$1 port=$2
  shift 2
  "$BIN" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" "$@" > "$dir/server.log" 2>&1 &
  pid=$!
  wait_ready "http://127.0.0.1:$port/readyz" "$dir/server.log" "$pid"
}
