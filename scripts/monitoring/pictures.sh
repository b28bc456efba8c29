#!/usr/bin/env bash
# npm run pictures — regenerate docs/images/order-stream-*.png: brings the stack up with Prometheus
# (MONITORING=1), runs the dashboard test (traffic, then malformed messages, Kafka stopped,
# PostgreSQL restarted), and renders every dashboard panel from that run's range queries.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install -q matplotlib
MONITORING=1 bash scripts/stack/up.sh
set -a
source "${STACK_DIR:-.stack}/env"
set +a
NODE_ENV=test npx mocha --timeout 120000 test/integration/dashboards.test.ts
python3 scripts/monitoring/render-dashboards.py "${STACK_DIR:-.stack}/dashboards-run.json" docs/images
