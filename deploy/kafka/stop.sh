#!/usr/bin/env bash
# Stop the test broker started by deploy/kafka/start.sh DIR.
# SIGTERM (clean controlled shutdown), wait with a deadline, then SIGKILL.
# Safe to run when nothing is running (stale or missing pid file).
# Env: STORELINE_KAFKA_STOP_TIMEOUT (seconds, default 30).
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
[[ -d "$1" ]] || exit 0
DIR="$(cd "$1" && pwd)"
timeout_s="${STORELINE_KAFKA_STOP_TIMEOUT:-30}"
pidfile="$DIR/kafka.pid"

[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"

# Only signal the JVM that was started for this DIR (pids get reused).
is_ours() {
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/server.properties"
}

if is_ours; then
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout_s))
  while is_ours && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if is_ours; then
    echo "kafka/stop: broker $pid ignored SIGTERM for ${timeout_s}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while is_ours; do sleep 0.1; done
  fi
fi
rm -f "$pidfile" "$DIR/kafka.addr"
