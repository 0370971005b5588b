#!/usr/bin/env bash
# Stop the REST catalog started by deploy/restcatalog/start.sh DIR (the catalog
# database, DIR/catalog.db, and the warehouse stay). SIGTERM, wait with a
# deadline, then SIGKILL. Safe to run when nothing is running.
# Env: STORELINE_REST_STOP_TIMEOUT (seconds, default 15).
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
[[ -d "$1" ]] || exit 0
DIR="$(cd "$1" && pwd)"
timeout_s="${STORELINE_REST_STOP_TIMEOUT:-15}"
pidfile="$DIR/server.pid"

[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"

# Only signal the JVM that was started for this DIR (pids get reused).
is_ours() {
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-Dstoreline.restcatalog.dir=$DIR "
}

if is_ours; then
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout_s))
  while is_ours && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if is_ours; then
    echo "restcatalog/stop: server $pid ignored SIGTERM for ${timeout_s}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while is_ours; do sleep 0.1; done
  fi
fi
rm -f "$pidfile"
