#!/usr/bin/env bash
# Stop the local Prometheus (its data under $STACK_DIR/prometheus is kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
if stop_pid "$STACK_DIR/prometheus/pid" 30; then echo "prometheus: stopped"; else echo "prometheus: not running"; fi
