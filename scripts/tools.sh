#!/usr/bin/env bash
# Installs the pinned Python tools of scripts/requirements.txt into .stack/venv-tools, once per
# change of that file. Prints the venv's bin directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.stack/venv-tools
stamp=$venv/requirements.sha256
want=$(sha256sum "$root/scripts/requirements.txt" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  rm -rf "$venv"
  mkdir -p "$root/.stack"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-deps -r "$root/scripts/requirements.txt" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
