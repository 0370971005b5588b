#!/usr/bin/env bash
# Stop the S3 gateway started by deploy/s3/start.sh DIR (objects stay in DIR/data).
# SIGTERM, wait with a deadline, then SIGKILL. Safe to run when nothing is running.
# Env: STORELINE_S3_STOP_TIMEOUT (seconds, default 10).
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
[[ -d "$1" ]] || exit 0
DIR="$(cd "$1" && pwd)"
timeout_s="${STORELINE_S3_STOP_TIMEOUT:-10}"
pidfile="$DIR/versitygw.pid"

[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"

# Only signal the gateway that serves this DIR (pids get reused).
is_ours() {
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "posix $DIR/data"
}

if is_ours; then
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout_s))
  while is_ours && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if is_ours; then
    echo "s3/stop: gateway $pid ignored SIGTERM for ${timeout_s}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while is_ours; do sleep 0.1; done
  fi
fi
rm -f "$pidfile"
