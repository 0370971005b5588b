#!/usr/bin/env bash
# Build the Versity S3 Gateway (an S3-compatible server over a posix directory,
# Apache-2.0) with `go install` from the Go module proxy into a cache OUTSIDE
# the repo:
#
#   ${STORELINE_CACHE:-$HOME/.cache/storeline}/versitygw-<version>/versitygw
#
# Idempotent: a second run is a no-op. Prints the binary's path on stdout;
# progress goes to stderr. The first build takes about a minute (module
# downloads + compile); later runs reuse the binary.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
CACHE="${STORELINE_CACHE:-$HOME/.cache/storeline}"
HOME_DIR="$CACHE/versitygw-$VERSITYGW_VERSION"
BIN="$HOME_DIR/versitygw"

log() { echo "s3/fetch: $*" >&2; }

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$HOME_DIR"
# Serialise concurrent fetches (e.g. two `testenv up` at once).
exec 9>"$HOME_DIR/.lock"
flock -w 600 9 || {
  log "timed out waiting for $HOME_DIR/.lock"
  exit 1
}
if [[ -x "$BIN" ]]; then # another process finished while we waited
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "go not found: the Versity S3 Gateway is built with go install"
  exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "building github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
# Outside any module (no go.work, no -mod flags of the caller's repo apply);
# the binary lands in $work first so a half-built one never looks complete.
if ! (cd "$work" && GOBIN="$work/bin" GOFLAGS=-buildvcs=false GOWORK=off \
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION") >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  log "go install failed"
  exit 1
fi
mv "$work/bin/versitygw" "$BIN"
log "cached $BIN"
echo "$BIN"
