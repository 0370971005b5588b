#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster for tests.
#
#   deploy/postgres/start.sh DIR
#     -> prints postgres://postgres@127.0.0.1:PORT/storeline?sslmode=disable
#
# Layout under DIR: data/ (the cluster), sock/ (unix socket), postgres.log,
# pg.port. Listens on 127.0.0.1 only, on a free port picked at first start;
# trust auth; durability switched off for speed (data is disposable). A later
# start.sh on the same DIR (after stop.sh) reuses the cluster and its port.
#
# PostgreSQL refuses to run as root, so when we are root the cluster is owned
# by and run as the `postgres` system user (DIR is chowned to it, and every
# directory above DIR must be traversable by it: use e.g. a mktemp -d under
# /tmp with chmod 755).
#
# Env: STORELINE_PG_BIN (default /usr/lib/postgresql/15/bin),
#      STORELINE_PG_START_TIMEOUT (seconds, default 60).
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
PGBIN="${STORELINE_PG_BIN:-/usr/lib/postgresql/15/bin}"
timeout_s="${STORELINE_PG_START_TIMEOUT:-60}"
DB=storeline

log() { echo "postgres/start: $*" >&2; }

if [[ ! -x "$PGBIN/initdb" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    log "$PGBIN missing; installing postgresql via apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
  [[ -x "$PGBIN/initdb" ]] || {
    log "no PostgreSQL 15 binaries in $PGBIN"
    exit 1
  }
fi

# as_pg CMD...: run CMD as the cluster owner (postgres when we are root).
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || {
    log "user postgres does not exist (is the postgresql package installed?)"
    exit 1
  }
  chown -R postgres: "$DIR"
  as_pg() { runuser -u postgres -- "$@"; }
  as_pg test -x "$DIR" || {
    log "user postgres cannot reach $DIR; make every parent directory traversable (chmod 755)"
    exit 1
  }
else
  as_pg() { "$@"; }
fi

# close_inherited_fds: drop every fd above stderr in the current (sub)shell,
# so the long-lived server started next never holds a caller's lock or pipe
# (e.g. the flock scripts/testenv holds on fd 8).
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if ((fd > 2 && fd < 255)); then eval "exec $fd>&-"; fi
  done
}

data="$DIR/data"
sock="$DIR/sock"

if [[ ! -f "$data/PG_VERSION" ]]; then
  # Free loopback port: bind to 0 and let the kernel choose.
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  rm -rf "$data"
  as_pg mkdir -p "$sock"
  as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    log "initdb failed"
    exit 1
  }
  # Test-speed settings: nothing here needs to survive a crash.
  as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- storeline test settings ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 1GB
EOF
  echo "$port" >"$DIR/pg.port"
fi
port="$(cat "$DIR/pg.port")"
url="postgres://postgres@127.0.0.1:$port/$DB?sslmode=disable"

# Already running? pg_ctl status checks postmaster.pid against a live process.
if ! as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # -w waits (polling) until the server accepts connections, -t bounds it.
  (
    close_inherited_fds
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$DIR/postgres.log" -w -t "$timeout_s" start
  ) </dev/null >&2 || {
    tail -n 30 "$DIR/postgres.log" >&2 || true
    log "server did not start (see $DIR/postgres.log)"
    exit 1
  }
fi

# Create the test database once.
if ! as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XAtqc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB"
fi

echo "$url"
