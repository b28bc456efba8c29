#!/usr/bin/env bash
# Tell the local Prometheus to scrape a running role:
#   bash scripts/stack/prometheus/target.sh NAME JOB HOST:MANAGEMENT_PORT [...]   add or replace
#   bash scripts/stack/prometheus/target.sh NAME                                   remove
# Writes $STACK_DIR/prometheus/targets/NAME.json (file_sd); Prometheus notices within seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
STACK_DIR=${STACK_DIR:-$root/.stack}
name=${1:?usage: target.sh NAME [JOB HOST:PORT ...]}
file=$STACK_DIR/prometheus/targets/$name.json
if (($# == 1)); then rm -f "$file"; exit 0; fi
job=${2:?usage: target.sh NAME JOB HOST:PORT ...}
shift 2
(($# > 0)) || { echo "target.sh: no HOST:PORT given" >&2; exit 1; }
mkdir -p "$(dirname "$file")"
targets=$(printf '"%s",' "$@")
# Written aside and renamed, so Prometheus never reads half a file.
printf '[{"targets": [%s], "labels": {"job": "%s"}}]\n' "${targets%,}" "$job" >"$file.tmp"
mv "$file.tmp" "$file"
