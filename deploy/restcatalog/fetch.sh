#!/usr/bin/env bash
# Assemble Apache Iceberg's REST catalog test server from Maven Central jars.
#
# The server is org.apache.iceberg.rest.RESTCatalogServer from the
# `test-fixtures` jar of org.apache.iceberg:iceberg-open-api (the code behind
# the apache/iceberg-rest-fixture image). That artifact's POM declares no
# dependencies (they live only in Iceberg's Gradle build), so the pom below
# lists its runtime classpath by hand, after the open-api testFixtures block of
# Iceberg's build.gradle at 1.10.1:
#   * iceberg-core and its `tests` jar (RESTCatalogAdapter, RESTCatalogServlet);
#   * iceberg-aws + iceberg-aws-bundle (S3FileIO and the AWS SDK it needs, for
#     a warehouse on the test S3 server);
#   * hadoop-common (RESTCatalogServer hands the catalog a Hadoop
#     Configuration), minus its Jetty 9, logging, ZooKeeper, hadoop-auth & co,
#     as Iceberg's build excludes them (so HadoopFileIO, a local warehouse,
#     does not work: start.sh takes an s3:// one);
#   * Jetty 11 (servlet + gzip), sqlite-jdbc (the JdbcCatalog's database) and
#     slf4j-simple for logs.
# Then it compiles StorelineRESTCatalogServer.java (a launcher that binds to
# 127.0.0.1; see that file) against them. Everything goes into a cache OUTSIDE
# the repo:
#
#   ${STORELINE_CACHE:-$HOME/.cache/storeline}/iceberg-rest-1.10.1/libs/*.jar
#   ${STORELINE_CACHE:-$HOME/.cache/storeline}/iceberg-rest-1.10.1/classes-<sha>/
#
# Idempotent: a marker file records a complete fetch; a second run is a no-op
# (the launcher is recompiled only when its source changes). Prints the
# classpath (libs/*:classes-<sha>) on stdout; progress goes to stderr.
set -euo pipefail

ICEBERG_VERSION=1.10.1
JETTY_VERSION=11.0.25       # Jetty 11 (jakarta.servlet 5), as Iceberg 1.10 builds with
HADOOP_VERSION=3.4.1
SQLITE_JDBC_VERSION=3.50.3.0
SLF4J_VERSION=2.0.17
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STORELINE_CACHE:-$HOME/.cache/storeline}"
HOME_DIR="$CACHE/iceberg-rest-$ICEBERG_VERSION"
LIBS="$HOME_DIR/libs"
MARKER="$HOME_DIR/.complete"
launcher="$here/StorelineRESTCatalogServer.java"
sha="$(sha256sum "$launcher" | cut -c1-12)"
CLASSES="$HOME_DIR/classes-$sha"

log() { echo "restcatalog/fetch: $*" >&2; }

if [[ -f "$MARKER" && -f "$CLASSES/.complete" ]]; then
  echo "$LIBS/*:$CLASSES"
  exit 0
fi

mkdir -p "$HOME_DIR"
# Serialise concurrent fetches (e.g. two `testenv up` at once).
exec 9>"$HOME_DIR/.lock"
flock -w 600 9 || {
  log "timed out waiting for $HOME_DIR/.lock"
  exit 1
}

for tool in mvn javac; do
  command -v "$tool" >/dev/null 2>&1 && continue
  log "$tool not found; installing maven and a headless JDK via apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq maven default-jdk-headless >&2
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -f "$MARKER" ]]; then
  # Throwaway pom: only used to drive dependency resolution.
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>storeline.local</groupId>
  <artifactId>iceberg-rest-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.iceberg</groupId>
      <artifactId>iceberg-open-api</artifactId>
      <version>$ICEBERG_VERSION</version>
      <classifier>test-fixtures</classifier>
    </dependency>
    <dependency>
      <groupId>org.apache.iceberg</groupId>
      <artifactId>iceberg-core</artifactId>
      <version>$ICEBERG_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.iceberg</groupId>
      <artifactId>iceberg-core</artifactId>
      <version>$ICEBERG_VERSION</version>
      <classifier>tests</classifier>
    </dependency>
    <dependency>
      <groupId>org.apache.iceberg</groupId>
      <artifactId>iceberg-aws</artifactId>
      <version>$ICEBERG_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.iceberg</groupId>
      <artifactId>iceberg-aws-bundle</artifactId>
      <version>$ICEBERG_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.hadoop</groupId>
      <artifactId>hadoop-common</artifactId>
      <version>$HADOOP_VERSION</version>
      <exclusions>
        <exclusion><groupId>log4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.slf4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>ch.qos.reload4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.avro</groupId><artifactId>avro</artifactId></exclusion>
        <exclusion><groupId>com.google.guava</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.google.protobuf</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.curator</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.zookeeper</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.kerby</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.hadoop</groupId><artifactId>hadoop-auth</artifactId></exclusion>
        <exclusion><groupId>org.apache.hadoop.thirdparty</groupId><artifactId>hadoop-shaded-protobuf_3_7</artifactId></exclusion>
        <exclusion><groupId>org.eclipse.jetty</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.sun.jersey</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>javax.servlet</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>javax.servlet.jsp</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.jcraft</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>io.netty</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.nimbusds</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>dnsjava</groupId><artifactId>*</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>org.eclipse.jetty</groupId>
      <artifactId>jetty-servlet</artifactId>
      <version>$JETTY_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.eclipse.jetty</groupId>
      <artifactId>jetty-server</artifactId>
      <version>$JETTY_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.xerial</groupId>
      <artifactId>sqlite-jdbc</artifactId>
      <version>$SQLITE_JDBC_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>$SLF4J_VERSION</version>
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
POM

  log "resolving iceberg-open-api:$ICEBERG_VERSION:test-fixtures and its runtime from Maven Central into $LIBS"
  tmp_libs="$HOME_DIR/libs.tmp.$$"
  rm -rf "$tmp_libs"
  # Maven's output goes to a log that is only shown when resolution fails.
  if ! (cd "$work" && mvn -q -B dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp_libs") >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    log "maven dependency resolution failed"
    exit 1
  fi
  for jar in "iceberg-open-api-$ICEBERG_VERSION-test-fixtures.jar" "iceberg-core-$ICEBERG_VERSION.jar" \
    "iceberg-core-$ICEBERG_VERSION-tests.jar" "iceberg-aws-bundle-$ICEBERG_VERSION.jar" \
    "hadoop-common-$HADOOP_VERSION.jar" "jetty-servlet-$JETTY_VERSION.jar" \
    "sqlite-jdbc-$SQLITE_JDBC_VERSION.jar"; do
    [[ -f "$tmp_libs/$jar" ]] || {
      log "missing $jar after resolution"
      exit 1
    }
  done
  # Swap in atomically so a half-finished fetch never looks complete.
  rm -rf "$LIBS"
  mv "$tmp_libs" "$LIBS"
  touch "$MARKER"
  log "cached $(find "$LIBS" -name "*.jar" | wc -l) jars ($(du -sh "$LIBS" | cut -f1))"
fi

if [[ ! -f "$CLASSES/.complete" ]]; then
  log "compiling $(basename "$launcher")"
  if ! javac -nowarn -d "$work/classes" -cp "$LIBS/*" "$launcher" >"$work/javac.log" 2>&1; then
    cat "$work/javac.log" >&2
    log "javac failed"
    exit 1
  fi
  rm -rf "$CLASSES"
  mv "$work/classes" "$CLASSES"
  touch "$CLASSES/.complete"
fi
echo "$LIBS/*:$CLASSES"
