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
# shellcheck source=../stopproc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stopproc.sh"
stop_process "$DIR/versitygw.pid" "posix $DIR/data" "${STORELINE_S3_STOP_TIMEOUT:-10}" "s3/stop: gateway"
