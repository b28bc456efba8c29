#!/usr/bin/env bash
# Stops the SASL/SCRAM Kafka of start.sh (its data, certificates and passwords stay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
if stop_pid "$STACK_DIR/kafka-scram/pid" 60; then echo "kafka-scram: stopped"; else echo "kafka-scram: not running"; fi
