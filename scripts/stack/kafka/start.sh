#!/usr/bin/env bash
# Apache Kafka 4.x in KRaft mode (one node, broker + controller) from the Apache jars on Maven Central,
# on 127.0.0.1:$KAFKA_PORT. Maven resolves the jars once into ~/.m2; the classpath is cached under
# $STACK_DIR/kafka so a warm start does not call Maven at all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
dir=$STACK_DIR/kafka
log=$dir/server.log
pidfile=$dir/pid
mkdir -p "$dir"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if pid_alive "$pidfile" && port_open "$KAFKA_PORT"; then
  echo "kafka: already up"
  exit 0
fi

# Classpath, cached per pom.xml content: a changed Kafka version resolves again.
stamp=$(md5sum "$here/pom.xml" | cut -c1-12)
classpath_file=$dir/classpath-$stamp
if [[ ! -s $classpath_file ]]; then
  echo "kafka: resolving the broker jars from Maven Central (first start only)"
  mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$classpath_file.tmp" >"$dir/maven.log" 2>&1 || fail_with_log kafka-maven "$dir/maven.log"
  mv "$classpath_file.tmp" "$classpath_file"
fi
classpath=$(cat "$classpath_file")

cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# The application creates its own topics (DESIGN §3): a typo must not invent one.
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS

cat >"$dir/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
PROPS

java_opts=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$dir/log4j2.properties")

if [[ ! -f $dir/data/meta.properties ]]; then
  java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format \
    -t "$(cat "$dir/cluster-id" 2>/dev/null || echo b3JkZXJzdHJlYW1sb2NhbA)" -c "$dir/server.properties" \
    >"$dir/format.log" 2>&1 || fail_with_log kafka-format "$dir/format.log"
fi

: >"$log"
nohup java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
echo $! >"$pidfile"

# Up means: the broker logged that it started and its listener takes connections.
wait_until 90 bash -c "grep -q 'Kafka Server started' '$log' && (exec 3<>/dev/tcp/127.0.0.1/$KAFKA_PORT)" \
  || { pid_alive "$pidfile" || cat "$dir/stdout.log" >>"$log"; fail_with_log kafka "$log"; }
echo "kafka: up on 127.0.0.1:$KAFKA_PORT"
