#!/usr/bin/env bash
# Remove what `make test-compose` keeps between runs to be fast: its images and the base
# (about 2.5 GB), and the build layers they leave behind.
#   infra/compose/clean.sh
set -euo pipefail
export CONTAINERS_CONF="$(cd "$(dirname "$0")" && pwd)/containers.conf"
for image in payment-pipeline-app:local payment-pipeline-kafka:local \
    payment-pipeline-postgres:local "${BASE_IMAGE:-localhost/bookworm-base:latest}"; do
  podman image exists "$image" && podman rmi -f "$image" >/dev/null && echo "removed $image"
done
podman image prune -f >/dev/null
