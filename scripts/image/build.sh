#!/usr/bin/env bash
# npm run image — builds deploy/Dockerfile into the image $IMAGE (localhost/order-stream:dev).
#
#   with Docker (`docker info` answers): docker build, on the official node:24 base images;
#   otherwise with buildah: on the local base images of scripts/image/base.sh (built first, and
#   skipped when up to date), layers cached so an unchanged step is not run again.
#
# The CA bundle named by NODE_EXTRA_CA_CERTS (or NPM_CA_BUNDLE), if any, is passed as the build
# secret npm_ca for `npm ci`: it trusts the TLS-inspecting proxy some networks put in front of the
# npm registry, and never ends up in the image. Extra arguments go to docker build / buildah bud.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/env.sh"
cd "$root"

ca=${NPM_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-}}
secret=()
[[ -n $ca && -s $ca ]] && secret=(--secret "id=npm_ca,src=$ca")
started=$SECONDS

if [[ ${IMAGE_BUILDER:-} != buildah ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  DOCKER_BUILDKIT=1 docker build "${secret[@]}" -f deploy/Dockerfile -t "$IMAGE" "$@" .
  size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
else
  bash "$here/base.sh"
  # --format docker keeps HEALTHCHECK (the OCI format has no such field); --network host lets RUN
  # steps reach the package registries; --layers caches each step.
  buildah bud --layers --format docker --network host "${secret[@]}" \
    --build-arg "BUILD_IMAGE=$BASE_BUILD_IMAGE" --build-arg "RUNTIME_IMAGE=$BASE_RUNTIME_IMAGE" \
    -f deploy/Dockerfile -t "$IMAGE" "$@" .
  size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
fi
echo "image: $IMAGE, $((size / 1000000)) MB, built in $((SECONDS - started)) s"
