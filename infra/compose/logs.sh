#!/usr/bin/env bash
# Print the logs of the project's containers that failed: exited non-zero, unhealthy, or
# still not healthy. With --all, every container's.
#   infra/compose/logs.sh PROJECT [--all]
set -uo pipefail
project="$1"
all="${2:-}"
podman ps -a --filter "label=com.docker.compose.project=$project" \
  --format '{{.Names}}|{{.Status}}' | while IFS='|' read -r name status; do
  case "$status" in
    *"Exited (0)"*|*"(healthy)"*|Created) [[ "$all" == --all ]] || continue ;;
  esac
  echo "----- $name: $status (last 80 lines)"
  podman logs --tail 80 "$name" 2>&1
done
