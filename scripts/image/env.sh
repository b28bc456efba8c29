# Sourced by the image scripts and used by the image tests: names the images and points buildah
# and podman at the project's containers.conf.
image_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$image_dir/containers.conf}
# The image `npm run image` builds, and the local base images it builds from where node:24-* cannot
# be pulled (scripts/image/base.sh).
export IMAGE=${IMAGE:-localhost/order-stream:dev}
export BASE_BUILD_IMAGE=${BASE_BUILD_IMAGE:-localhost/order-stream-node:24-bookworm}
export BASE_RUNTIME_IMAGE=${BASE_RUNTIME_IMAGE:-localhost/order-stream-node:24-bookworm-slim}
