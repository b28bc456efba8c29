#!/usr/bin/env bash
# The three-broker chaos scenarios (test/cluster/): a throwaway three-node Kafka cluster in
# $STACK_DIR/cluster, next to the running stack whose PostgreSQL and Schema Registry it shares.
# Started and stopped here, formatted afresh every run (its logs stay for post-mortems). Ports:
# CLUSTER_KAFKA_PORT / CLUSTER_KAFKA_CONTROLLER_PORT (default KAFKA_PORT + 40 / KAFKA_CONTROLLER_PORT
# + 40, i.e. 19132/19133, 19142/19143, 19152/19153), so it never meets a stack on the default ports.
# CHAOS=full (npm run test:chaos:cluster) runs the sizes RELIABILITY.md reports.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export STACK_DIR=${STACK_DIR:-$root/.stack}
[[ -f $STACK_DIR/env ]] || { echo "test-cluster: no $STACK_DIR/env — run npm run stack:up first" >&2; exit 1; }
set -a
source "$STACK_DIR/env"
set +a

cluster=$STACK_DIR/cluster
kafka_port=${CLUSTER_KAFKA_PORT:-$((${KAFKA_PORT:-19092} + 40))}
controller_port=${CLUSTER_KAFKA_CONTROLLER_PORT:-$((${KAFKA_CONTROLLER_PORT:-19093} + 40))}
kafka() { STACK_DIR=$cluster KAFKA_PORT=$kafka_port KAFKA_CONTROLLER_PORT=$controller_port bash scripts/stack/kafka/"$@"; }
discard() {
  kafka stop.sh
  rm -rf "$cluster"/kafka/node-*/data "$cluster/kafka/layout"
}
trap discard EXIT
discard
started=$SECONDS
KAFKA_BROKERS_COUNT=3 kafka start.sh
echo "test-cluster: three brokers up in $((SECONDS - started)) s"

# The cluster's settings replace the stack's Kafka ones; restarts from the tests use the same ports.
export STACK_DIR=$cluster KAFKA_PORT=$kafka_port KAFKA_CONTROLLER_PORT=$controller_port
export KAFKA_BROKERS=$(cat "$cluster/kafka/brokers") ORDERS_TOPIC_REPLICATION=3 ORDERS_TOPIC_MIN_INSYNC_REPLICAS=2 NODE_ENV=test
npx mocha --timeout 1800000 --slow 60000 'test/cluster/**/*.test.ts'
