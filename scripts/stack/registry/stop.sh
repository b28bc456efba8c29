#!/usr/bin/env bash
# Stop the local Schema Registry (its state under $STACK_DIR/registry is kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
if stop_pid "$STACK_DIR/registry/pid" 20; then echo "registry: stopped"; else echo "registry: not running"; fi
