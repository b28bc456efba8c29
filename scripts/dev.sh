#!/usr/bin/env bash
# npm run dev — bring the local stack up, run the deploy step (migrate), load the demo catalog, run
# both roles in one process. The api requires bearer tokens signed with a local development key
# (`npm run -s token -- --user user-1`); AUTH_MODE=off npm run dev runs it without authentication.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/stack/up.sh
set -a
source .stack/env
set +a
export NODE_ENV=${NODE_ENV:-development} PORT=${PORT:-8080} MANAGEMENT_PORT=${MANAGEMENT_PORT:-9090} HOST=${HOST:-127.0.0.1}
if [[ ${AUTH_MODE:-jwt} == jwt && -z ${AUTH_JWKS_URL:-}${AUTH_PUBLIC_KEY_FILE:-} ]]; then
  # The development key pair (.stack/dev-auth, made on first use) and the settings that trust it.
  set -a
  source <(node --import tsx src/main.ts token --settings)
  set +a
  cat <<HOW
dev: the API on http://$HOST:$PORT needs a bearer token; get one with
       TOKEN=\$(npm run -s token -- --user user-1)                      # user-1's orders
       ADMIN=\$(npm run -s token -- --user ops --scope catalog:write)   # PUT and restock the catalog
     and send it as  -H "authorization: Bearer \$TOKEN".  Health and metrics: http://$HOST:$MANAGEMENT_PORT
HOW
fi
# The deploy step, as in production: database migrations and the order schema registered.
node --import tsx src/main.ts migrate
# With MONITORING=1 the stack's Prometheus scrapes this process (job order-stream-dev).
if [[ ${MONITORING:-0} == 1 ]]; then bash scripts/stack/prometheus/target.sh dev order-stream-dev "127.0.0.1:$MANAGEMENT_PORT"; fi
exec node --import tsx src/main.ts all --demo-catalog
