#!/usr/bin/env bash
# Stop the local Kafka broker (data under $STACK_DIR/kafka is kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
if stop_pid "$STACK_DIR/kafka/pid" 60; then echo "kafka: stopped"; else echo "kafka: not running"; fi
