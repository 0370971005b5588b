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
# shellcheck source=../stopproc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stopproc.sh"
stop_process "$DIR/kafka.pid" "$DIR/server.properties" "${STORELINE_KAFKA_STOP_TIMEOUT:-30}" "kafka/stop: broker"
rm -f "$DIR/kafka.addr"
