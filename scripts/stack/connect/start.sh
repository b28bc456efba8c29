#!/usr/bin/env bash
# Kafka Connect (CONNECT=1 npm run stack:up): one distributed-mode worker from the Apache jars on
# Maven Central (scripts/stack/connect/pom.xml, the stack's Kafka version), REST on
# 127.0.0.1:$CONNECT_PORT (18083), against the stack's Kafka ($STACK_DIR/kafka/brokers).
#
# Plugins, resolved from Maven Central into $STACK_DIR/connect/plugins on first start (and again
# when this script's plugin list or converter.pom.xml / scripting.pom.xml change):
#   debezium-connector-jdbc      the JDBC sink (deploy/connect/orders-jdbc-sink.json), plus
#                                Debezium's scripting Filter with Groovy (scripting.pom.xml)
#   debezium-connector-postgres  CDC from PostgreSQL's logical decoding (deploy/connect/orders-cdc-source.json)
#   apicurio-converter           Apicurio's AvroConverter: reads the Confluent wire format (converter.pom.xml)
# The worker's own state (connector configs, source offsets, statuses) lives in three compacted
# topics, connect-configs/-offsets/-status, at the stack's replication (3 with three brokers);
# $STACK_DIR/connect holds only the plugins, the generated configuration and the log.
#
# Usable on its own against a Kafka that is already up: STACK_DIR=<a stack dir> bash start.sh.
# CONNECT_START_TIMEOUT (seconds, default 240): how long the worker may take to answer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
CONNECT_PORT=${CONNECT_PORT:-18083}
CONNECT_GROUP_ID=${CONNECT_GROUP_ID:-order-stream-connect}
dir=$STACK_DIR/connect
log=$dir/connect.log
pidfile=$dir/pid
url=http://127.0.0.1:$CONNECT_PORT
mkdir -p "$dir"

DEBEZIUM_VERSION=3.3.1.Final
plugin_artifacts=(
  "io.debezium:debezium-connector-jdbc:$DEBEZIUM_VERSION:tar.gz:plugin"
  "io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION:tar.gz:plugin"
)

command -v java >/dev/null || { echo "connect: java not found on PATH — install a JDK 17+ (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
[[ -s $STACK_DIR/kafka/brokers ]] || { echo "connect: no Kafka in $STACK_DIR (no kafka/brokers) — start the stack first (npm run stack:up)" >&2; exit 1; }
brokers=$(cat "$STACK_DIR/kafka/brokers")
replication=1
if [[ $brokers == *,* ]]; then replication=3; fi

answers() { curl -fsS -o /dev/null --max-time 5 "$url/connectors"; }
timeout=${CONNECT_START_TIMEOUT:-240}

if pid_alive "$pidfile"; then
  wait_until "$timeout" answers || fail_with_log connect "$log"
  echo "$url" >"$dir/url"
  echo "connect: already up on $url"
  exit 0
fi

need_maven() {
  command -v mvn >/dev/null || { echo "connect: mvn not found on PATH — install Maven (apt-get install maven) to resolve the Connect jars" >&2; exit 1; }
}

# Worker classpath, cached per pom.xml content (as for the broker).
stamp=$(md5sum "$here/pom.xml" | cut -c1-12)
classpath_file=$dir/classpath-$stamp
if [[ ! -s $classpath_file ]]; then
  need_maven
  echo "connect: resolving the Kafka Connect worker jars from Maven Central (first start only)"
  mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$classpath_file.tmp" >"$dir/maven.log" 2>&1 || fail_with_log connect-maven "$dir/maven.log"
  mv "$classpath_file.tmp" "$classpath_file"
fi

# Plugins, one folder each (Connect isolates each folder in its own class loader).
plugins=$dir/plugins
plugin_stamp=$( { cat "$here/converter.pom.xml" "$here/scripting.pom.xml"; printf '%s\n' "${plugin_artifacts[@]}"; } | md5sum | cut -c1-12)
if [[ $(cat "$plugins/stamp" 2>/dev/null) != "$plugin_stamp" ]]; then
  need_maven
  echo "connect: resolving the connector plugins from Maven Central (first start only, ~45 MB)"
  rm -rf "$plugins" && mkdir -p "$plugins"
  (
    set -e
    cd "$dir"  # standalone Maven goals write their scratch files into the working directory
    for artifact in "${plugin_artifacts[@]}"; do
      # Each Debezium plugin archive holds one folder named after the connector.
      mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dir/downloads"
      tar -xzf "$dir/downloads/$(cut -d: -f2 <<<"$artifact")-$DEBEZIUM_VERSION-plugin.tar.gz" -C "$plugins"
    done
    rm -rf "$dir/downloads"
    # Kafka's own jars (and the compression libraries kafka-clients pulls in) come from the worker.
    mvn -q -B -f "$here/converter.pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DexcludeGroupIds=org.apache.kafka,org.slf4j,com.github.luben,org.lz4,org.xerial.snappy \
      -DoutputDirectory="$plugins/apicurio-converter"
    # Only the listed jars: debezium-core and the rest are in the sink's folder already.
    mvn -q -B -f "$here/scripting.pom.xml" dependency:copy-dependencies -DexcludeTransitive=true \
      -DoutputDirectory="$plugins/debezium-connector-jdbc"
  ) >"$dir/maven.log" 2>&1 || fail_with_log connect-plugins "$dir/maven.log"
  echo "$plugin_stamp" >"$plugins/stamp"
fi

cat >"$dir/worker.properties" <<PROPS
# Written by scripts/stack/connect/start.sh — edit that script, not this file.
bootstrap.servers=$brokers
group.id=$CONNECT_GROUP_ID
listeners=http://127.0.0.1:$CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT
plugin.path=$plugins
# Apicurio's 2.1.5 jars carry no ServiceLoader manifests, so the plugins are found by scanning
# (what the default does too, with a warning about it).
plugin.discovery=only_scan
# The worker's state, in Kafka: any worker of the group can pick up any task after a restart.
config.storage.topic=connect-configs
offset.storage.topic=connect-offsets
status.storage.topic=connect-status
config.storage.replication.factor=$replication
offset.storage.replication.factor=$replication
status.storage.replication.factor=$replication
# Defaults for connectors that name no converter; ours name theirs.
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
# Source offsets (the CDC position) flushed every second rather than every 60 s: a worker crash
# then replays at most about a second of changes (consumers de-duplicate them, README).
offset.flush.interval.ms=1000
# One worker: the tasks of a worker that crashed have nowhere else to go, so they are not held back
# for its return (default 5 min); a crashed sink task's consumer leaves its group within 10 s.
scheduled.rebalance.max.delay.ms=5000
consumer.session.timeout.ms=10000
consumer.heartbeat.interval.ms=2000
# A connector config may tune its own consumer (consumer.override.max.poll.records, ...).
connector.client.config.override.policy=All
# The stack's Kafka does not create topics on demand: a source connector creates its topics
# through the admin API (topic.creation.* in its config).
topic.creation.enable=true
PROPS

cat >"$dir/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %X{connector.context}%m (%c)%n
logger.kafka.name=org.apache.kafka
logger.kafka.level=WARN
logger.connect.name=org.apache.kafka.connect
logger.connect.level=INFO
logger.reflections.name=org.reflections
logger.reflections.level=ERROR
PROPS

: >"$log"
# shellcheck disable=SC2046
nohup java -Xms128m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$(cat "$classpath_file")" \
  org.apache.kafka.connect.cli.ConnectDistributed "$dir/worker.properties" >"$dir/stdout.log" 2>&1 &
echo $! >"$pidfile"
wait_until "$timeout" answers || { pid_alive "$pidfile" || cat "$dir/stdout.log" >>"$log"; fail_with_log connect "$log"; }
echo "$url" >"$dir/url"
echo "connect: up on $url (Kafka Connect $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml"), plugins in $plugins)"
