#!/usr/bin/env bash
# Checks, before npm test spends any time, every program the tests and the local stack need, and
# prints one `apt-get install` line naming every Debian package missing (README, Install).
# Exit 1 when anything is missing. (The Node.js version is checked by scripts/test.sh.)
set -euo pipefail

missing=()   # Debian packages
notes=()     # what apt-get cannot install
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }

need psql postgresql-client
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v pg_ctl >/dev/null || missing+=(postgresql)
need java default-jre-headless      # Kafka and the Schema Registry of the local stack
need mvn maven                      # fetches their jars (Maven Central)
need prometheus prometheus          # the stack's Prometheus (dashboards test)
need promtool prometheus            # alert rule tests
need curl curl
need python3 python3
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv) # scripts/tools.sh (manifest schema checks)
if [[ ${SKIP_IMAGE_TESTS:-0} != 1 ]]; then
  # The container image: mmdebstrap assembles the base, buildah builds, podman runs and plays the
  # manifests (runc; catatonit for the pods' infra containers).
  for tool in buildah podman runc catatonit mmdebstrap; do need "$tool" "$tool"; done
fi
if command -v java >/dev/null 2>&1; then
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [[ ${major:-0} -ge 17 ]] || notes+=("java ${major:-?} found, Kafka 4 needs 17 or later: apt-get install openjdk-17-jre-headless")
fi
# Debian's kubernetes-client (1.20) is too old for the overlays' kustomize.
command -v kubectl >/dev/null 2>&1 || notes+=("kubectl 1.27 or later (it has kustomize built in): https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/")

if (( ${#missing[@]} + ${#notes[@]} == 0 )); then exit 0; fi
echo "npm test: prerequisites missing" >&2
if (( ${#missing[@]} )); then
  printf '  sudo apt-get install -y %s\n' "$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')" >&2
fi
for note in "${notes[@]}"; do echo "  $note" >&2; done
exit 1
