#!/usr/bin/env bash
# Assemble an Apache Kafka 4.1.1 (KRaft) runtime from Maven Central jars.
#
# There is no Kafka tarball mirror reachable from our machines, only Maven
# Central, so we resolve kafka_2.13 (the broker, incl. kafka.Kafka and
# kafka.tools.StorageTool) plus kafka-tools (TopicCommand & co, handy in tests)
# and a log4j2 binding for slf4j, then copy every runtime jar into a cache
# OUTSIDE the repo:
#
#   ${STORELINE_CACHE:-$HOME/.cache/storeline}/kafka-4.1.1/libs/*.jar
#
# Idempotent: a marker file records a complete fetch; a second run is a no-op.
# Prints the libs directory on stdout; progress goes to stderr.
set -euo pipefail

KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3 # the log4j2 version kafka-server 4.1.1 itself depends on
CACHE="${STORELINE_CACHE:-$HOME/.cache/storeline}"
HOME_DIR="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"
MARKER="$HOME_DIR/.complete"

log() { echo "kafka/fetch: $*" >&2; }

if [[ -f "$MARKER" ]]; then
  echo "$LIBS"
  exit 0
fi

mkdir -p "$HOME_DIR"
# Serialise concurrent fetches (e.g. two `testenv up` at once).
exec 9>"$HOME_DIR/.lock"
flock -w 600 9 || {
  log "timed out waiting for $HOME_DIR/.lock"
  exit 1
}
if [[ -f "$MARKER" ]]; then # another process finished while we waited
  echo "$LIBS"
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  log "mvn not found; installing maven via apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq maven >&2
fi
if ! command -v java >/dev/null 2>&1; then
  # Kafka 4.x brokers need Java 17+; maven pulls in a JDK on Debian anyway.
  log "java not found; installing a headless JDK via apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq default-jdk-headless >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Throwaway pom: only used to drive dependency resolution.
# connect-runtime (jetty, jersey, ...) is excluded: kafka-tools only needs it
# for the Connect-specific tools, which we never run.
cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>storeline.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion>
          <groupId>org.apache.kafka</groupId>
          <artifactId>connect-runtime</artifactId>
        </exclusion>
        <exclusion>
          <groupId>com.fasterxml.jackson.jakarta.rs</groupId>
          <artifactId>jackson-jakarta-rs-json-provider</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <!-- Kafka logs through slf4j 1.7; this routes it into log4j2 (log4j-core
         is already a runtime dependency of kafka-server). -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF

log "resolving kafka_2.13:$KAFKA_VERSION from Maven Central into $LIBS"
tmp_libs="$HOME_DIR/libs.tmp.$$"
rm -rf "$tmp_libs"
# Maven's output goes to a log that is only shown when resolution fails.
if ! (cd "$work" && mvn -q -B dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp_libs") >"$work/mvn.log" 2>&1; then
  cat "$work/mvn.log" >&2
  log "maven dependency resolution failed"
  exit 1
fi

# Sanity check before declaring the cache complete.
for jar in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" \
  "kafka-tools-$KAFKA_VERSION.jar" "log4j-core-$LOG4J_VERSION.jar" \
  "log4j-slf4j-impl-$LOG4J_VERSION.jar"; do
  [[ -f "$tmp_libs/$jar" ]] || {
    log "missing $jar after resolution"
    exit 1
  }
done

# Swap in atomically so a half-finished fetch never looks complete.
rm -rf "$LIBS"
mv "$tmp_libs" "$LIBS"
touch "$MARKER"
log "cached $(find "$LIBS" -name "*.jar" | wc -l) jars"
echo "$LIBS"
