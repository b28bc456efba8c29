#!/usr/bin/env bash
# npm run stack:up — a real local Kafka (KRaft), Schema Registry and PostgreSQL on loopback, no Docker.
# Idempotent: components already up are left alone. Writes .stack/env for tests and `npm run dev`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/scripts/stack
export STACK_DIR=${STACK_DIR:-$root/.stack}
export KAFKA_PORT=${KAFKA_PORT:-19092}
export KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
export REGISTRY_PORT=${REGISTRY_PORT:-18081}
export PG_PORT=${PG_PORT:-15432}
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
mkdir -p "$STACK_DIR"

started=$SECONDS
bash "$here/postgres/start.sh"
bash "$here/kafka/start.sh"
bash "$here/registry/start.sh"

registry_url=$(cat "$STACK_DIR/registry/url")
cat >"$STACK_DIR/env" <<ENV
KAFKA_BROKERS=$KAFKA_BROKERS
SCHEMA_REGISTRY_URL=$registry_url
DATABASE_URL=postgres://orderstream:orderstream@127.0.0.1:$PG_PORT/orderstream
ENV
echo "stack: up in $((SECONDS - started)) s — settings in $STACK_DIR/env"
