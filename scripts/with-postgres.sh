#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL: initdb in a temp dir (as the `postgres` user when we
# are root, since PostgreSQL refuses to run as root), on a free loopback port, with DATABASE_URL exported.
# The server is stopped and its directory removed when the command ends, even on failure.
set -euo pipefail

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
}

BINDIR=$(find_bindir || true)
if [ -z "${BINDIR}" ]; then
  echo "PostgreSQL binaries not found: installing Debian's postgresql package." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  BINDIR=$(find_bindir)
fi

PGDATA_ROOT=$(mktemp -d /tmp/recorrente-pg.XXXXXX)
PGDATA="$PGDATA_ROOT/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = "0" ]; then chown postgres "$PGDATA_ROOT"; fi

cleanup() {
  as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA_ROOT"
}
trap cleanup EXIT INT TERM

as_pg "$BINDIR/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
# Durability is pointless for a throwaway test database; turning it off makes the suite faster.
as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -l "$PGDATA_ROOT/server.log" -w -t 60 start \
  -o "-h 127.0.0.1 -p $PORT -k $PGDATA_ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
echo "Throwaway PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/recorrente"
"$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres recorrente
"$@"
