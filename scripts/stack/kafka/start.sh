#!/usr/bin/env bash
# Apache Kafka 4.x in KRaft mode from the Apache jars on Maven Central, on loopback. Maven resolves
# the jars once into ~/.m2; the classpath is cached under $STACK_DIR/kafka so a warm start does not
# call Maven at all.
#
# KAFKA_BROKERS_COUNT=1 (default for a new data dir): one node, broker + controller, on
#   127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), data under $STACK_DIR/kafka.
# KAFKA_BROKERS_COUNT=3: three nodes, each broker + controller ("combined" mode: three JVMs rather
#   than six on a small machine), one three-voter controller quorum. Node n listens on
#   KAFKA_PORT + KAFKA_PORT_STEP·(n−1) and its controller on KAFKA_CONTROLLER_PORT +
#   KAFKA_PORT_STEP·(n−1) (step 10: 19092, 19102, 19112 by default); data under
#   $STACK_DIR/kafka/node-n. Internal topics get replication 3 and min ISR 2, and so does any topic
#   created without its own settings. Losing two nodes also loses the controller quorum.
# Unset, the count is the one the data dir was formatted for: a data dir is never switched between
# one and three nodes (a single node's log is not a three-node cluster) — that fails with advice.
# KAFKA_NODE=n starts only node n of an existing cluster (the chaos tests restart one broker).
# KAFKA_START_TIMEOUT (seconds, default 240): how long a node may take to report started.
# The ports a data dir was created with are remembered and used when the variables are unset.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/layout.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Classpath, cached per pom.xml content: a changed Kafka version resolves again.
stamp=$(md5sum "$here/pom.xml" | cut -c1-12)
classpath_file=$dir/classpath-$stamp
resolve_classpath() {
  if [[ ! -s $classpath_file ]]; then
    echo "kafka: resolving the broker jars from Maven Central (first start only)"
    mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.includeScope=runtime \
      -Dmdep.outputFile="$classpath_file.tmp" >"$dir/maven.log" 2>&1 || fail_with_log kafka-maven "$dir/maven.log"
    mv "$classpath_file.tmp" "$classpath_file"
  fi
}

# server.properties and log4j2.properties of node $1.
write_node_config() {
  local n=$1 node_dir voters="" m
  node_dir=$(node_dir "$n")
  mkdir -p "$node_dir"
  for ((m = 1; m <= nodes; m++)); do voters+="${voters:+,}$m@127.0.0.1:$(controller_port "$m")"; done
  local replication=1 min_isr=1
  if ((nodes >= 3)); then replication=3 min_isr=2; fi
  cat >"$node_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$node_dir/data
# The application creates its own topics: a typo must not invent one.
auto.create.topics.enable=false
num.partitions=1
# Internal topics (offsets, transactions, share groups) and topics created without settings.
default.replication.factor=$replication
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
# Never elect a replica that missed acknowledged writes.
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
PROPS

  cat >"$node_dir/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$node_dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
PROPS
}

java_opts() {
  # Three JVMs share the machine with everything else: smaller heaps each.
  local heap=(-Xms256m -Xmx1g)
  ((nodes == 1)) || heap=(-Xms128m -Xmx512m)
  echo "${heap[@]} -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=$(node_dir "$1")/log4j2.properties"
}

node_up() {
  local node_dir
  node_dir=$(node_dir "$1")
  pid_alive "$node_dir/pid" && port_open "$(broker_port "$1")"
}

# Formats node $1's log dir for the cluster (first start only).
format_node() {
  local n=$1 node_dir
  node_dir=$(node_dir "$n")
  write_node_config "$n"
  [[ -f $node_dir/data/meta.properties ]] && return 0
  # shellcheck disable=SC2046
  java $(java_opts "$n") -cp "$(cat "$classpath_file")" kafka.tools.StorageTool format -t "$cluster_id" -c "$node_dir/server.properties" \
    >"$node_dir/format.log" 2>&1 || fail_with_log "kafka-format (node $n)" "$node_dir/format.log"
}

# Launches node $1 in the background.
launch_node() {
  local n=$1 node_dir classpath
  node_dir=$(node_dir "$n")
  classpath=$(cat "$classpath_file")
  : >"$node_dir/server.log"
  # shellcheck disable=SC2046
  nohup java $(java_opts "$n") -cp "$classpath" kafka.Kafka "$node_dir/server.properties" >"$node_dir/stdout.log" 2>&1 &
  echo $! >"$node_dir/pid"
}

# Up means: the broker logged that it started (in KRaft: caught up and unfenced) and its listener
# takes connections.
await_node() {
  local n=$1 node_dir
  node_dir=$(node_dir "$n")
  wait_until "${KAFKA_START_TIMEOUT:-240}" bash -c "grep -q 'Kafka Server started' '$node_dir/server.log' && (exec 3<>/dev/tcp/127.0.0.1/$(broker_port "$n"))" \
    || { pid_alive "$node_dir/pid" || cat "$node_dir/stdout.log" >>"$node_dir/server.log"; fail_with_log "kafka (node $n)" "$node_dir/server.log"; }
}

targets=()
if [[ -n ${KAFKA_NODE:-} ]]; then
  ((KAFKA_NODE >= 1 && KAFKA_NODE <= nodes)) || { echo "kafka: KAFKA_NODE=$KAFKA_NODE, but the cluster has $nodes node(s)" >&2; exit 1; }
  targets=("$KAFKA_NODE")
else
  for ((n = 1; n <= nodes; n++)); do targets+=("$n"); done
fi

pending=()
for n in "${targets[@]}"; do node_up "$n" || pending+=("$n"); done
save_layout
if ((${#pending[@]} == 0)); then
  echo "kafka: already up ($(brokers))"
  exit 0
fi

resolve_classpath
cluster_id=$(cat "$dir/cluster-id" 2>/dev/null || echo b3JkZXJzdHJlYW1sb2NhbA)
# Formatting is a JVM start per node: done side by side.
formatting=()
for n in "${pending[@]}"; do format_node "$n" & formatting+=($!); done
for pid in "${formatting[@]}"; do wait "$pid" || exit 1; done
# Nodes of a cluster start together: each waits for a controller quorum before it reports started.
for n in "${pending[@]}"; do launch_node "$n"; done
for n in "${pending[@]}"; do await_node "$n"; done
if [[ -n ${KAFKA_NODE:-} ]]; then
  echo "kafka: node $KAFKA_NODE up on 127.0.0.1:$(broker_port "$KAFKA_NODE")"
else
  echo "kafka: up on $(brokers) ($nodes node(s))"
fi
