#!/usr/bin/env bash
# npm run stack:down — stop the local stack. Data and logs stay under .stack/ (delete it to start over).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/scripts/stack
export STACK_DIR=${STACK_DIR:-$root/.stack}
# Reverse order of start-up: the registry may keep its state in Kafka.
status=0
bash "$here/prometheus/stop.sh" || status=1
# Connect before Kafka: its tasks commit their offsets on the way down.
bash "$here/connect/stop.sh" || status=1
bash "$here/registry/stop.sh" || status=1
bash "$here/kafka/stop.sh" || status=1
[[ -f $STACK_DIR/kafka-scram/pid ]] && { bash "$here/kafka-scram/stop.sh" || status=1; }
# The throwaway three-broker cluster of scripts/test-cluster.sh, if an interrupted run left it up.
[[ -d $STACK_DIR/cluster/kafka ]] && { STACK_DIR=$STACK_DIR/cluster bash "$here/kafka/stop.sh" || status=1; }
bash "$here/postgres/stop.sh" || status=1
exit $status
