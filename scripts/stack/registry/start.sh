#!/usr/bin/env bash
# A Confluent-compatible Schema Registry on 127.0.0.1:$REGISTRY_PORT for the local stack.
# This is the LOCAL STAND-IN under test/support/schema-registry.ts (see README "Local stack" for why
# no packaged registry is used); its schemas persist in $STACK_DIR/registry/state.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
REGISTRY_PORT=${REGISTRY_PORT:-18081}
dir=$STACK_DIR/registry
log=$dir/registry.log
pidfile=$dir/pid
url=http://127.0.0.1:$REGISTRY_PORT
mkdir -p "$dir"
echo "$url" >"$dir/url"

answers() { curl -fsS -o /dev/null "$url/subjects"; }

if pid_alive "$pidfile" && answers; then
  echo "registry: already up"
  exit 0
fi

[[ -x $root/node_modules/.bin/tsx ]] || { echo "registry: node_modules missing — run npm ci first" >&2; exit 1; }
cd "$root"
nohup node --import tsx test/support/schema-registry.ts "$REGISTRY_PORT" "$dir/state.json" >"$log" 2>&1 &
echo $! >"$pidfile"
wait_until 30 answers || fail_with_log registry "$log"
echo "registry: up on $url (local stand-in)"
