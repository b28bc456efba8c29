#!/usr/bin/env bash
# Prometheus for the local stack (MONITORING=1 npm run stack:up): Debian's `prometheus` on
# 127.0.0.1:$PROMETHEUS_PORT, with the alert rules of deploy/prometheus/alerts.yml loaded.
#
# What it scrapes: every file $STACK_DIR/prometheus/targets/*.json (Prometheus file_sd, re-read
# within seconds, no restart). `npm run dev` writes dev.json for its process; tests write their
# own; add a role you started yourself with
#   bash scripts/stack/prometheus/target.sh NAME JOB HOST:MANAGEMENT_PORT   (/metrics is on the management port)
# Each target's `job` label comes from its file (order-stream-api, order-stream-processor, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
PROMETHEUS_PORT=${PROMETHEUS_PORT:-19090}
# Short, so the dashboards and the dashboard test see a change within seconds (production: 15 s).
PROMETHEUS_SCRAPE_INTERVAL=${PROMETHEUS_SCRAPE_INTERVAL:-2s}
dir=$STACK_DIR/prometheus
log=$dir/prometheus.log
pidfile=$dir/pid
mkdir -p "$dir/targets" "$dir/data"

command -v prometheus >/dev/null || { echo "prometheus: not installed — apt-get install prometheus" >&2; exit 1; }

ready() { curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null; }

if pid_alive "$pidfile" && ready; then
  echo "prometheus: already up on http://127.0.0.1:$PROMETHEUS_PORT"
  exit 0
fi

cat >"$dir/prometheus.yml" <<YAML
# Written by scripts/stack/prometheus/start.sh — edit that script, not this file.
global:
  scrape_interval: $PROMETHEUS_SCRAPE_INTERVAL
  evaluation_interval: $PROMETHEUS_SCRAPE_INTERVAL
rule_files:
  - $root/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: order-stream
    metrics_path: /metrics
    file_sd_configs:
      - files: ["$dir/targets/*.json"]
        refresh_interval: 2s
YAML
promtool check config "$dir/prometheus.yml" >"$dir/check.log" 2>&1 || fail_with_log prometheus-config "$dir/check.log"

: >"$log"
# --web.enable-lifecycle: POST /-/reload picks up edited alert rules without a restart.
nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
  --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
  --web.enable-lifecycle >"$log" 2>&1 &
echo $! >"$pidfile"
wait_until 60 ready || { pid_alive "$pidfile" || true; fail_with_log prometheus "$log"; }
echo "http://127.0.0.1:$PROMETHEUS_PORT" >"$dir/url"
echo "prometheus: up on http://127.0.0.1:$PROMETHEUS_PORT (targets in $dir/targets)"
