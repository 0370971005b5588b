#!/usr/bin/env bash
# Start a throwaway S3-compatible server for tests: the Versity S3 Gateway
# with its posix backend (a bucket is a directory under DIR/data).
#
#   deploy/s3/start.sh DIR [BUCKET...]   -> prints the endpoint, e.g. http://127.0.0.1:40125
#
# Listens on 127.0.0.1 only, on a free port picked at first start and kept in
# DIR/s3.port, so a later start.sh on the same DIR (after stop.sh) serves the
# same objects at the same address. Each BUCKET is created if missing.
# Output: DIR/versitygw.log; pid: DIR/versitygw.pid.
#
# Credentials are the gateway's root account, fixed for tests (single-account
# mode, no IAM): STORELINE_S3_ROOT_ACCESS_KEY (default storeline-test) and
# STORELINE_S3_ROOT_SECRET_KEY (default storeline-test-secret); region
# us-east-1.
#
# Env: STORELINE_S3_START_TIMEOUT (seconds, default 30), STORELINE_CACHE (see fetch.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || {
  echo "usage: $0 DIR [BUCKET...]" >&2
  exit 2
}
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
shift
timeout_s="${STORELINE_S3_START_TIMEOUT:-30}"
access="${STORELINE_S3_ROOT_ACCESS_KEY:-storeline-test}"
secret="${STORELINE_S3_ROOT_SECRET_KEY:-storeline-test-secret}"
region=us-east-1

log() { echo "s3/start: $*" >&2; }

# is_ours PID: true if PID is alive and is the gateway serving DIR/data
# (guards against pid reuse: we never signal an unrelated process).
is_ours() {
  [[ -n "${1:-}" && -r "/proc/$1/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "posix $DIR/data"
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

# s3 METHOD PATH: a SigV4-signed request with an empty body; prints the HTTP status.
empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3() {
  local method=(-X "$1")
  [[ $1 != HEAD ]] || method=(-I) # -X HEAD would wait for a body
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    --aws-sigv4 "aws:amz:$region:s3" --user "$access:$secret" \
    -H "x-amz-content-sha256: $empty_sha256" "${method[@]}" "$endpoint$2" || true
}

if [[ ! -f "$DIR/s3.port" ]]; then
  # Free loopback port: bind to 0 and let the kernel choose.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$DIR/s3.port"
fi
port="$(cat "$DIR/s3.port")"
endpoint="http://127.0.0.1:$port"
mkdir -p "$DIR/data"

if ! { [[ -f "$DIR/versitygw.pid" ]] && is_ours "$(cat "$DIR/versitygw.pid")"; }; then
  rm -f "$DIR/versitygw.pid"
  bin="$("$here/fetch.sh")"
  # setsid + full redirection: the gateway must not hold the caller's stdout
  # (this script is usually run as $(start.sh DIR)) nor die with its session.
  # The subshell execs setsid, which execs the gateway, so $! is its pid.
  # Keys go through the environment, never the command line (ps shows that).
  (
    close_inherited_fds
    export ROOT_ACCESS_KEY="$access" ROOT_SECRET_KEY="$secret"
    exec setsid "$bin" --port "127.0.0.1:$port" --region "$region" --quiet posix "$DIR/data"
  ) >>"$DIR/versitygw.log" 2>&1 </dev/null &
  echo "$!" >"$DIR/versitygw.pid"
fi
pid="$(cat "$DIR/versitygw.pid")"

# Ready when an authenticated ListBuckets answers 200.
deadline=$((SECONDS + timeout_s))
until [[ "$(s3 GET /)" == 200 ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$DIR/versitygw.log" >&2 || true
    log "gateway exited during startup (see $DIR/versitygw.log)"
    rm -f "$DIR/versitygw.pid"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$DIR/versitygw.log" >&2 || true
    log "gateway not ready after ${timeout_s}s; stopping it"
    "$here/stop.sh" "$DIR" || true
    exit 1
  fi
  sleep 0.05
done

for bucket in "$@"; do
  [[ "$(s3 HEAD "/$bucket")" == 200 ]] && continue
  status="$(s3 PUT "/$bucket")"
  [[ "$status" == 200 ]] || {
    log "create bucket $bucket: HTTP $status"
    exit 1
  }
done

echo "$endpoint"
