# The local Kafka's layout (sourced by start.sh and stop.sh, not run): how many nodes, where their
# data lives, which ports they use. A data dir remembers its layout in $STACK_DIR/kafka/layout, so
# later starts (a test restarting one node, `npm run stack:up` without variables) find the same
# ports and node count; variables set explicitly win for the ports, never for the node count.

: "${STACK_DIR:?STACK_DIR must be set}"
dir=$STACK_DIR/kafka
mkdir -p "$dir"

saved_nodes="" saved_port="" saved_controller_port="" saved_step=""
if [[ -f $dir/layout ]]; then
  while IFS='=' read -r key value; do
    case $key in
      NODES) saved_nodes=$value ;;
      KAFKA_PORT) saved_port=$value ;;
      KAFKA_CONTROLLER_PORT) saved_controller_port=$value ;;
      KAFKA_PORT_STEP) saved_step=$value ;;
    esac
  done <"$dir/layout"
fi

# The node count the data dir was formatted for, if any node was formatted at all. A data dir from
# before layouts existed holds one node under $dir/data.
formatted_nodes=""
if [[ -f $dir/data/meta.properties ]]; then
  formatted_nodes=1
elif compgen -G "$dir/node-*/data/meta.properties" >/dev/null; then
  formatted_nodes=${saved_nodes:-3}
fi

nodes=${KAFKA_BROKERS_COUNT:-${formatted_nodes:-${saved_nodes:-1}}}
if [[ $nodes != 1 && $nodes != 3 ]]; then
  echo "kafka: KAFKA_BROKERS_COUNT must be 1 or 3 (got '$nodes')" >&2
  exit 1
fi
if [[ -n $formatted_nodes && $formatted_nodes != "$nodes" ]]; then
  {
    echo "kafka: $dir holds a $formatted_nodes-node cluster, but KAFKA_BROKERS_COUNT=$nodes asks for $nodes node(s)."
    echo "  A data dir cannot change its node count. Either leave KAFKA_BROKERS_COUNT unset (or $formatted_nodes),"
    echo "  or stop the stack and delete $dir (its topics and consumer offsets are lost),"
    echo "  or use another STACK_DIR (with other ports) for the $nodes-node cluster."
  } >&2
  exit 1
fi

KAFKA_PORT=${KAFKA_PORT:-${saved_port:-19092}}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-${saved_controller_port:-19093}}
KAFKA_PORT_STEP=${KAFKA_PORT_STEP:-${saved_step:-10}}

broker_port() { echo $((KAFKA_PORT + KAFKA_PORT_STEP * ($1 - 1))); }
controller_port() { echo $((KAFKA_CONTROLLER_PORT + KAFKA_PORT_STEP * ($1 - 1))); }
# One node keeps the original layout ($dir/data, $dir/pid), so existing single-node stacks still work.
node_dir() { if ((nodes == 1)); then echo "$dir"; else echo "$dir/node-$1"; fi; }
brokers() {
  local n list=""
  for ((n = 1; n <= nodes; n++)); do list+="${list:+,}127.0.0.1:$(broker_port "$n")"; done
  echo "$list"
}

save_layout() {
  printf '%s\n' "NODES=$nodes" "KAFKA_PORT=$KAFKA_PORT" "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" "KAFKA_PORT_STEP=$KAFKA_PORT_STEP" >"$dir/layout"
  brokers >"$dir/brokers"
}
