#!/usr/bin/env bash
# Start a throwaway single-node Kafka 4.1.1 KRaft cluster (broker+controller in
# one JVM) for tests.
#
#   deploy/kafka/start.sh DIR      -> prints the bootstrap address, e.g. 127.0.0.1:40123
#
# Everything lives under DIR: server.properties, log4j2.properties, data/,
# kafka.log (all broker output), kafka.pid, kafka.addr. Ports are free loopback
# ports picked at first start; a later start.sh on the same DIR (after stop.sh)
# reuses config, ports and data, so tests can restart the broker.
#
# Env: STORELINE_KAFKA_START_TIMEOUT (seconds, default 120),
#      STORELINE_KAFKA_HEAP (default 512m), STORELINE_CACHE (see fetch.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -eq 1 ]] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
timeout_s="${STORELINE_KAFKA_START_TIMEOUT:-120}"
heap="${STORELINE_KAFKA_HEAP:-512m}"

log() { echo "kafka/start: $*" >&2; }

# is_ours PID: true if PID is alive and is the broker started for this DIR
# (guards against pid reuse: we never signal an unrelated process).
is_ours() {
  [[ -n "${1:-}" && -r "/proc/$1/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/server.properties"
}

# close_inherited_fds: drop every fd above stderr in the current (sub)shell,
# so the long-lived server started next never holds a caller's lock or pipe
# (e.g. the flock scripts/testenv holds on fd 8).
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if ((fd > 2 && fd < 255)); then eval "exec $fd>&-"; fi
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Already running for this DIR? Then just report the address (idempotent).
if [[ -f "$DIR/kafka.pid" ]] && is_ours "$(cat "$DIR/kafka.pid")" && [[ -f "$DIR/kafka.addr" ]]; then
  addr="$(cat "$DIR/kafka.addr")"
  if port_open "${addr##*:}"; then
    echo "$addr"
    exit 0
  fi
  log "a broker for $DIR is running but not answering; stop it first: deploy/kafka/stop.sh $DIR"
  exit 1
fi
rm -f "$DIR/kafka.pid"

libs="$("$here/fetch.sh")"

if [[ ! -f "$DIR/server.properties" ]]; then
  # Two free loopback ports (broker, controller). Bind to port 0 and let the
  # kernel pick; the tiny race until Kafka binds is acceptable for tests.
  read -r port cport < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')
  # Tuned for tests on a 2-core box: single replica everywhere, few internal
  # partitions (the first consumer group / transaction creates them), no
  # rebalance delay, few threads.
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.retention.check.interval.ms=60000
EOF
  cat >"$DIR/log4j2.properties" <<'EOF'
# Console only: start.sh redirects the JVM's stdout/stderr to DIR/kafka.log.
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.reqchan.name = kafka.network.RequestChannel$
logger.reqchan.level = WARN
EOF
fi
port="$(sed -n 's#^advertised.listeners=PLAINTEXT://127.0.0.1:##p' "$DIR/server.properties")"

java_opts=(
  "-Xms128m" "-Xmx$heap"
  # Short-lived test broker: C1 only cuts JIT CPU use and startup time.
  "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20" "-XX:TieredStopAtLevel=1"
  "-Djava.awt.headless=true"
  "-Dlog4j2.configurationFile=$DIR/log4j2.properties"
)

# Format storage once (KRaft needs a cluster id and meta.properties).
if [[ ! -f "$DIR/data/meta.properties" ]]; then
  # A KRaft cluster id is 16 random bytes, base64url without padding (no python needed: a
  # version manager's shim once answered nothing here, and the format step got no id).
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  if [[ ${#cluster_id} -ne 22 ]]; then
    log "could not make a cluster id (got '$cluster_id')"
    exit 1
  fi
  if ! java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format \
    --config "$DIR/server.properties" --cluster-id "$cluster_id" --ignore-formatted \
    >>"$DIR/format.log" 2>&1; then
    cat "$DIR/format.log" >&2
    log "storage format failed"
    exit 1
  fi
fi

# Only log lines written by this start count (the log survives restarts).
log_offset="$(stat -c %s "$DIR/kafka.log" 2>/dev/null || echo 0)"
started() { tail -c +"$((log_offset + 1))" "$DIR/kafka.log" 2>/dev/null | grep -q 'Kafka Server started'; }

# setsid + full redirection: the broker must not hold the caller's stdout
# (this script is usually run as $(start.sh DIR)) nor die with its session.
# The subshell execs setsid, which execs java (no fork: we are not a process
# group leader), so $! is the JVM's pid.
(
  close_inherited_fds
  exec setsid java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$DIR/server.properties"
) >>"$DIR/kafka.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$DIR/kafka.pid"

# Poll until the broker reports it has started and its port answers.
deadline=$((SECONDS + timeout_s))
until started && port_open "$port"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$DIR/kafka.log" >&2 || true
    log "broker exited during startup (see $DIR/kafka.log)"
    rm -f "$DIR/kafka.pid"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$DIR/kafka.log" >&2 || true
    log "broker not ready after ${timeout_s}s; stopping it"
    "$here/stop.sh" "$DIR" || true
    exit 1
  fi
  sleep 0.2
done

echo "127.0.0.1:$port" >"$DIR/kafka.addr"
echo "127.0.0.1:$port"
