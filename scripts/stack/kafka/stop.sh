#!/usr/bin/env bash
# Stop the local Kafka: every node, or only node $KAFKA_NODE (data under $STACK_DIR/kafka is kept).
# The nodes of a cluster are stopped together: stopped one after another, the last ones would wait
# for a controller quorum that has already gone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
dir=$STACK_DIR/kafka

if [[ -n ${KAFKA_NODE:-} ]]; then
  if [[ -d $dir/node-$KAFKA_NODE ]]; then pidfiles=("$dir/node-$KAFKA_NODE/pid"); else pidfiles=("$dir/pid"); fi
else
  pidfiles=("$dir/pid")
  for node in "$dir"/node-*; do [[ -d $node ]] && pidfiles+=("$node/pid"); done
fi

running=()
for pidfile in "${pidfiles[@]}"; do pid_alive "$pidfile" && running+=("$pidfile"); done
if ((${#running[@]} == 0)); then
  echo "kafka: not running"
  exit 0
fi
for pidfile in "${running[@]}"; do stop_pid "$pidfile" 60 & done
wait
echo "kafka: stopped (${#running[@]} node(s))"
