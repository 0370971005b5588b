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
# shellcheck source=../stopproc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../stopproc.sh"
stop_process "$DIR/server.pid" "-Dstoreline.restcatalog.dir=$DIR " "${STORELINE_REST_STOP_TIMEOUT:-15}" "restcatalog/stop: server"
