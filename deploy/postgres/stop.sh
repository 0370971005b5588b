#!/usr/bin/env bash
# Stop the test cluster started by deploy/postgres/start.sh DIR.
# Fast shutdown (disconnects clients) with a deadline, then immediate mode.
# Safe to run when nothing is running.
# Env: STORELINE_PG_BIN, STORELINE_PG_STOP_TIMEOUT (seconds, default 30).
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
[[ -d "$1" ]] || exit 0
DIR="$(cd "$1" && pwd)"
PGBIN="${STORELINE_PG_BIN:-/usr/lib/postgresql/15/bin}"
timeout_s="${STORELINE_PG_STOP_TIMEOUT:-30}"
data="$DIR/data"

[[ -f "$data/postmaster.pid" && -x "$PGBIN/pg_ctl" ]] || exit 0

if [[ $(id -u) -eq 0 ]]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

# pg_ctl status is false for a stale postmaster.pid (server already gone).
as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1 || exit 0
if ! as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t "$timeout_s" stop >&2; then
  echo "postgres/stop: fast shutdown timed out; using immediate mode" >&2
  as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate -w -t "$timeout_s" stop >&2
fi
