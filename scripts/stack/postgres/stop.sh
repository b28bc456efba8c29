#!/usr/bin/env bash
set -euo pipefail
: "${STACK_DIR:?STACK_DIR must be set}"
dir=$STACK_DIR/postgres
[[ -f $dir/location ]] && dir=$(cat "$dir/location")
data=$dir/data
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_owner() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ -f $data/postmaster.pid ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  echo "postgres: stopped"
else
  echo "postgres: not running"
fi
