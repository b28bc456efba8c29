#!/usr/bin/env bash
# npm run dev — bring the local stack up, run the deploy step (migrate), load the demo catalog, run
# both roles in one process.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/stack/up.sh
set -a
source .stack/env
set +a
export NODE_ENV=${NODE_ENV:-development} PORT=${PORT:-8080} HOST=${HOST:-127.0.0.1}
# The deploy step, as in production: database migrations and the order schema registered.
node --import tsx src/main.ts migrate
# With MONITORING=1 the stack's Prometheus scrapes this process (job order-stream-dev).
if [[ ${MONITORING:-0} == 1 ]]; then bash scripts/stack/prometheus/target.sh dev order-stream-dev "127.0.0.1:$PORT"; fi
exec node --import tsx src/main.ts all --demo-catalog
