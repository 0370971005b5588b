#!/usr/bin/env bash
# Run a Kafka tool class against the cached 4.1.1 jars, like upstream's
# kafka-run-class.sh. Examples:
#   deploy/kafka/run-class.sh org.apache.kafka.tools.TopicCommand \
#     --bootstrap-server 127.0.0.1:PORT --create --topic t --partitions 3
#   deploy/kafka/run-class.sh org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
#     --bootstrap-server 127.0.0.1:PORT --list
# Tool logging goes to stderr at WARN so stdout stays parseable.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || {
  echo "usage: $0 CLASS [ARGS...]" >&2
  exit 2
}
libs="$("$here/fetch.sh")"
logcfg="$libs/../tools-log4j2.properties"
if [[ ! -f "$logcfg" ]]; then
  cat >"$logcfg.$$" <<'CFG'
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
CFG
  mv "$logcfg.$$" "$logcfg"
fi
exec java -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$logcfg" -cp "$libs/*" "$@"
