#!/usr/bin/env bash
# Start a throwaway Iceberg REST catalog for tests: Apache Iceberg's
# RESTCatalogServer (see fetch.sh) serving a JdbcCatalog whose database is a
# SQLite file, DIR/catalog.db.
#
#   deploy/restcatalog/start.sh DIR s3://BUCKET/PREFIX   -> prints the URI, e.g. http://127.0.0.1:40127
#
# The warehouse, where the catalog puts new tables, is on an S3 server (the
# test one: deploy/s3), written with Iceberg's S3FileIO, path-style. A local
# directory is not supported: Iceberg's HadoopFileIO would need more of Hadoop
# than fetch.sh brings. Needs STORELINE_REST_S3_ENDPOINT (http://127.0.0.1:PORT),
# STORELINE_REST_S3_ACCESS_KEY, STORELINE_REST_S3_SECRET_KEY and
# STORELINE_REST_S3_REGION (default us-east-1) at first start: they are kept in
# DIR/catalog.env (mode 600) with the warehouse and the port (a free loopback
# port), so a later start.sh on the same DIR (after stop.sh; the warehouse
# argument may then be omitted) serves the same catalog at the same address.
# They reach the JVM through its environment only.
#
# Listens on 127.0.0.1 only; no authentication (any bearer token is ignored).
# Ready when GET /v1/config answers 200. Output: DIR/server.log; pid: DIR/server.pid.
# Env: STORELINE_REST_START_TIMEOUT (seconds, default 90), STORELINE_REST_HEAP
# (default 384m), STORELINE_CACHE (see fetch.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 && $# -le 2 ]] || {
  echo "usage: $0 DIR [s3://BUCKET/PREFIX]" >&2
  exit 2
}
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
timeout_s="${STORELINE_REST_START_TIMEOUT:-90}"
heap="${STORELINE_REST_HEAP:-384m}"

log() { echo "restcatalog/start: $*" >&2; }

# is_ours PID: true if PID is alive and is the server started for this DIR
# (guards against pid reuse: we never signal an unrelated process).
is_ours() {
  [[ -n "${1:-}" && -r "/proc/$1/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "-Dstoreline.restcatalog.dir=$DIR "
}

# close_inherited_fds: drop every fd above stderr in the current (sub)shell,
# so the long-lived server never holds a caller's lock or pipe (e.g. the
# flock scripts/testenv holds on fd 8).
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if ((fd > 2 && fd < 255)); then eval "exec $fd>&-"; fi
  done
}

config_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$uri/v1/config" || true
}

# First start: pick the port, record the warehouse and its storage settings.
if [[ ! -f "$DIR/catalog.env" ]]; then
  warehouse="${2:-}"
  [[ "$warehouse" == s3://?* ]] || {
    log "first start on $DIR: want the warehouse, s3://BUCKET/PREFIX (got '${warehouse}')"
    exit 2
  }
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  (
    umask 077
    {
      echo "REST_PORT=$port"
      echo "CATALOG_URI=jdbc:sqlite:$DIR/catalog.db"
      : "${STORELINE_REST_S3_ENDPOINT:?the s3:// warehouse needs STORELINE_REST_S3_ENDPOINT}"
      : "${STORELINE_REST_S3_ACCESS_KEY:?the s3:// warehouse needs STORELINE_REST_S3_ACCESS_KEY}"
      : "${STORELINE_REST_S3_SECRET_KEY:?the s3:// warehouse needs STORELINE_REST_S3_SECRET_KEY}"
      echo "CATALOG_WAREHOUSE=$warehouse"
      echo "CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO"
      echo "CATALOG_S3_ENDPOINT=$STORELINE_REST_S3_ENDPOINT"
      echo "CATALOG_S3_PATH__STYLE__ACCESS=true"
      echo "CATALOG_S3_ACCESS__KEY__ID=$STORELINE_REST_S3_ACCESS_KEY"
      echo "CATALOG_S3_SECRET__ACCESS__KEY=$STORELINE_REST_S3_SECRET_KEY"
      echo "CATALOG_CLIENT_REGION=${STORELINE_REST_S3_REGION:-us-east-1}"
    } >"$DIR/catalog.env.tmp"
    mv "$DIR/catalog.env.tmp" "$DIR/catalog.env"
  )
elif [[ $# -eq 2 ]] && ! grep -qxF "CATALOG_WAREHOUSE=$2" "$DIR/catalog.env"; then
  log "$DIR already serves another warehouse ($(grep '^CATALOG_WAREHOUSE=' "$DIR/catalog.env"))"
  exit 1
fi
port="$(sed -n 's/^REST_PORT=//p' "$DIR/catalog.env")"
uri="http://127.0.0.1:$port"

if ! { [[ -f "$DIR/server.pid" ]] && is_ours "$(cat "$DIR/server.pid")"; }; then
  rm -f "$DIR/server.pid"
  cp="$("$here/fetch.sh")"
  # setsid + full redirection: the server must not hold the caller's stdout
  # (this script is usually run as $(start.sh DIR)) nor die with its session.
  # The subshell execs setsid, which execs java, so $! is the JVM's pid.
  # Settings (and the S3 keys) go through the environment, never the command
  # line (ps shows that).
  (
    close_inherited_fds
    set -a
    # shellcheck disable=SC1091
    source "$DIR/catalog.env"
    set +a
    exec setsid java "-Dstoreline.restcatalog.dir=$DIR" "-Xmx$heap" -XX:+UseSerialGC \
      -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$cp" org.apache.iceberg.rest.StorelineRESTCatalogServer
  ) >>"$DIR/server.log" 2>&1 </dev/null &
  echo "$!" >"$DIR/server.pid"
fi
pid="$(cat "$DIR/server.pid")"

deadline=$((SECONDS + timeout_s))
until [[ "$(config_status)" == 200 ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$DIR/server.log" >&2 || true
    log "server exited during startup (see $DIR/server.log)"
    rm -f "$DIR/server.pid"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$DIR/server.log" >&2 || true
    log "server not ready after ${timeout_s}s; stopping it"
    "$here/stop.sh" "$DIR" || true
    exit 1
  fi
  sleep 0.1
done
echo "$uri"
