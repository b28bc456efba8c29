#!/usr/bin/env bash
# npm's postinstall (and the image's build stage): applies patches/ to node_modules with
# patch-package, then rebuilds the native Kafka client's addon in place, since its patch is C++.
# `node-gyp build` recompiles only what changed: `npm ci` has just built the unpatched addon.
# README, "Dependencies and why", says what each patch does and how to drop it.
set -euo pipefail
cd "$(dirname "$0")/.."

npx --no-install patch-package --error-on-fail
addon=node_modules/@confluentinc/kafka-javascript
if compgen -G 'patches/@confluentinc+kafka-javascript+*.patch' >/dev/null && [[ -d $addon/build ]]; then
  # npm sets npm_config_node_gyp for its scripts; otherwise use the node-gyp npm itself ships.
  gyp=${npm_config_node_gyp:-$(dirname "$(realpath "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js}
  # The compiler's output (warnings of upstream's own code) is shown only if the build fails.
  out=$(cd "$addon" && node "$gyp" build --loglevel=error 2>&1) || { echo "$out" >&2; echo "patches: rebuilding $addon failed (cd $addon && node $gyp build)" >&2; exit 1; }
  echo "patches: $addon rebuilt with its patch"
fi
