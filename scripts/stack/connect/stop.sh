#!/usr/bin/env bash
# Stop the local Kafka Connect worker. Its state (connectors, offsets) stays in Kafka's
# connect-* topics, so the next start resumes every connector where it stopped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
if stop_pid "$STACK_DIR/connect/pid" 60; then echo "connect: stopped"; else echo "connect: not running"; fi
