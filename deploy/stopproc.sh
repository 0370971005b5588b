# Sourced by deploy/*/stop.sh: stop_process PIDFILE MARKER TIMEOUT NAME stops the process whose pid
# PIDFILE holds, if its command line contains MARKER (pids get reused: only the process started
# for this directory is signalled). SIGTERM, wait up to TIMEOUT seconds, then SIGKILL; then the
# pid file goes. Nothing running (no pid file, a stale pid) is fine.
stop_process() {
  local pidfile="$1" marker="$2" timeout_s="$3" name="$4" pid deadline
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  is_ours() {
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] &&
      tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
  }
  if is_ours; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + timeout_s))
    while is_ours && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if is_ours; then
      echo "$name $pid ignored SIGTERM for ${timeout_s}s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while is_ours; do sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}
