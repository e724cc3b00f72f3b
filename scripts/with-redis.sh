#!/usr/bin/env bash
# Runs a command with a throwaway Redis (Debian's redis-server) on a free loopback port, REDIS_URL exported
# (or the variable named by --as NAME). No persistence; stopped and its directory removed when the command
# ends, even on failure. Like scripts/with-postgres.sh, which it is usually combined with.
set -euo pipefail

VAR=REDIS_URL
if [ "${1:-}" = "--as" ]; then VAR=$2; shift 2; fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing Debian's redis-server package." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

DIR=$(mktemp -d /tmp/recorrente-redis.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize no \
  --logfile "$DIR/redis.log" &
REDIS_PID=$!

cleanup() {
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
echo "Throwaway Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$PORT" >&2

export "$VAR=redis://127.0.0.1:$PORT/0"
"$@"
