#!/usr/bin/env bash
# npm test — everything CI runs: typecheck, unit tests (promtool checks of the alert rules among
# them), then integration tests against the real local stack with Prometheus and the Kafka Connect
# worker (brought up here if they are not up; stack:up is idempotent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export STACK_DIR=${STACK_DIR:-$root/.stack}

# Every program the run needs, checked first: one apt-get line with all that is missing (and the
# Node.js checks below, so a newcomer learns everything in one go).
prerequisites=0
bash scripts/prerequisites.sh || prerequisites=1
# One supported major (/.node-version, `engines`): tests on another one prove nothing about it.
major=$(tr -d 'v \n\r' <.node-version | cut -d. -f1)
have=$(node --version 2>/dev/null || echo none)
[[ $have == "v$major".* ]] || { echo "npm test: needs Node.js $major (.node-version), found $have at $(command -v node || echo 'no node'); eval \"\$(bash scripts/node.sh --env)\" puts it first on PATH (README, Runtime)" >&2; exit 1; }
# A node_modules installed under another major has a native Kafka client that does not load.
node -e "require('@confluentinc/kafka-javascript')" 2>/dev/null || { echo "npm test: the native Kafka client does not load on Node.js $have: rebuild it with CKJS_LINKING=dynamic npm ci (README, Runtime)" >&2; exit 1; }
(( prerequisites == 0 )) || exit 1

npm run --silent typecheck
# 10 s: some unit tests run tools (promtool, kustomize) and 2 s is too tight on a busy 2-core machine.
npx mocha --timeout 10000 'test/unit/**/*.test.ts'

CONNECT=1 MONITORING=1 bash scripts/stack/up.sh
set -a
source "$STACK_DIR/env"
set +a
export NODE_ENV=test
npx mocha --timeout 120000 --slow 2000 'test/integration/**/*.test.ts'
# The Debezium sink and CDC source on the real worker (~1 min; `npm run test:connect` alone).
npx mocha --timeout 300000 --slow 30000 'test/connect/**/*.test.ts'
# The image as deployed: each role run with podman, the local overlay played with podman kube
# play, both against this stack. `npm run image` skips what is unchanged (cached layers, base kept).
if [[ ${SKIP_IMAGE_TESTS:-0} == 1 ]]; then
  echo "image tests skipped (SKIP_IMAGE_TESTS=1)"
else
  bash scripts/image/build.sh
  npx mocha --timeout 300000 --slow 30000 'test/image/**/*.test.ts'
fi
# Faults injected under load (short sizes; `npm run test:chaos` for the full ones). Last, because
# it stops and restarts Kafka and PostgreSQL.
npx mocha --timeout 300000 --slow 30000 'test/chaos/**/*.test.ts'
# Broker faults on a three-node Kafka cluster, started next to the stack and discarded afterwards
# (short sizes; `npm run test:chaos:cluster` for the full ones).
bash scripts/test-cluster.sh
