#!/usr/bin/env bash
# Installs the project's Node.js (the version in /.node-version) and the npm it ships with into a
# prefix, from the npm registry: the package node-linux-<arch> holds the official binary and the
# headers (include/node), the package npm holds npm. Layout as in the official tarballs:
#
#   <prefix>/bin/{node,npm,npx}   <prefix>/include/node/*.h   <prefix>/lib/node_modules/npm
#
# so `PATH=<prefix>/bin:$PATH npm_config_nodedir=<prefix>` runs it and lets node-gyp build native
# addons against its headers without downloading them (no route to the Node.js download site here).
#
#   bash scripts/node.sh [prefix]              prints the prefix (default .tools/node-v<version>,
#                                              gitignored)
#   eval "$(bash scripts/node.sh --env)"       puts it on PATH with npm_config_nodedir, in this shell
#
# Idempotent: an existing prefix that already runs that version is kept.
# Bootstraps with whatever npm is on PATH (any version; `npm pack` only downloads and verifies).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d ' \n\r' <"$root/.node-version")
version=${version#v}
# The npm that this Node.js release bundles (its CHANGELOG: "deps: upgrade npm to …"); bump with it.
npm_version=11.19.1
env=0
[[ ${1:-} == --env ]] && { env=1; shift; }
prefix=${1:-$root/.tools/node-v$version}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

report() {
  if [[ $env == 1 ]]; then
    printf 'export PATH=%q:"$PATH" npm_config_nodedir=%q\n' "$prefix/bin" "$prefix"
  else
    echo "$prefix"
  fi
}

if [[ -x $prefix/bin/node && $("$prefix/bin/node" --version 2>/dev/null) == "v$version" \
      && -e $prefix/include/node/node_api.h && -e $prefix/lib/node_modules/npm/bin/npm-cli.js ]]; then
  report
  exit 0
fi

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "node.sh: needs some npm on PATH to download Node.js $version" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/order-stream-node.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "node.sh: node-linux-$arch@$version and npm@$npm_version into $prefix" >&2
(cd "$work" && npm pack --silent "node-linux-$arch@$version" "npm@$npm_version" >/dev/null)
mkdir "$work/node" "$work/npm"
tar -xzf "$work/node-linux-$arch-$version.tgz" -C "$work/node" --strip-components=1
tar -xzf "$work/npm-$npm_version.tgz" -C "$work/npm" --strip-components=1

rm -rf "$prefix/bin" "$prefix/include" "$prefix/lib" "$prefix/share"
mkdir -p "$prefix/bin" "$prefix/lib/node_modules"
mv "$work/node/bin/node" "$prefix/bin/node"
mv "$work/node/include" "$prefix/include"
[[ -d $work/node/share ]] && mv "$work/node/share" "$prefix/share"
mv "$work/npm" "$prefix/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$prefix/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"

installed=$("$prefix/bin/node" --version)
[[ $installed == "v$version" ]] || { echo "node.sh: $prefix/bin/node is $installed, expected v$version" >&2; exit 1; }
echo "node.sh: Node.js $installed, npm $(PATH=$prefix/bin:$PATH "$prefix/bin/npm" --version)" >&2
report
