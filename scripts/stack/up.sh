#!/usr/bin/env bash
# npm run stack:up — a real local Kafka (KRaft), Schema Registry and PostgreSQL on loopback, no Docker.
# Idempotent: components already up are left alone. Writes $STACK_DIR/env for tests and `npm run dev`.
# KAFKA_BROKERS_COUNT=3 runs three Kafka nodes (scripts/stack/kafka/start.sh says how), and the
# env file then asks the service for replication 3 and min ISR 2.
# CONNECT=1 adds a Kafka Connect worker (scripts/stack/connect) on 127.0.0.1:$CONNECT_PORT (18083),
# with the Debezium JDBC sink and PostgreSQL source plugins; .stack/env then names CONNECT_URL.
# MONITORING=1 adds Prometheus (scripts/stack/prometheus) on 127.0.0.1:$PROMETHEUS_PORT (19090).
# KAFKA_AUTH=scram adds a second Kafka with SASL_SSL + SCRAM-SHA-512 (scripts/stack/kafka-scram) on
# 127.0.0.1:19192; its client settings are in $STACK_DIR/kafka-scram/env (test/integration/kafka-scram.test.ts).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/scripts/stack
export STACK_DIR=${STACK_DIR:-$root/.stack}
export REGISTRY_PORT=${REGISTRY_PORT:-18081}
export PG_PORT=${PG_PORT:-15432}
mkdir -p "$STACK_DIR"

started=$SECONDS
bash "$here/postgres/start.sh"
bash "$here/kafka/start.sh"
bash "$here/registry/start.sh"
if [[ ${CONNECT:-0} == 1 ]]; then
  export CONNECT_PORT=${CONNECT_PORT:-18083}
  bash "$here/connect/start.sh"
fi
if [[ ${MONITORING:-0} == 1 ]]; then
  export PROMETHEUS_PORT=${PROMETHEUS_PORT:-19090}
  bash "$here/prometheus/start.sh"
fi
if [[ ${KAFKA_AUTH:-} == scram ]]; then bash "$here/kafka-scram/start.sh"; fi

registry_url=$(cat "$STACK_DIR/registry/url")
brokers=$(cat "$STACK_DIR/kafka/brokers")
replication=1 min_isr=1
if [[ $brokers == *,* ]]; then replication=3 min_isr=2; fi
cat >"$STACK_DIR/env" <<ENV
KAFKA_BROKERS=$brokers
SCHEMA_REGISTRY_URL=$registry_url
DATABASE_URL=postgres://orderstream:orderstream@127.0.0.1:$PG_PORT/orderstream
ORDERS_TOPIC_REPLICATION=$replication
ORDERS_TOPIC_MIN_INSYNC_REPLICAS=$min_isr
ENV
# Also when Prometheus was started earlier and this run did not ask for it: it is still there.
if [[ -f $STACK_DIR/prometheus/url ]] && bash -c "kill -0 \$(cat '$STACK_DIR/prometheus/pid')" 2>/dev/null; then
  echo "PROMETHEUS_URL=$(cat "$STACK_DIR/prometheus/url")" >>"$STACK_DIR/env"
fi
if [[ -f $STACK_DIR/connect/url ]] && bash -c "kill -0 \$(cat '$STACK_DIR/connect/pid')" 2>/dev/null; then
  echo "CONNECT_URL=$(cat "$STACK_DIR/connect/url")" >>"$STACK_DIR/env"
fi
echo "stack: up in $((SECONDS - started)) s — settings in $STACK_DIR/env"
