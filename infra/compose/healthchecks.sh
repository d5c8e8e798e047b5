#!/usr/bin/env bash
# podman runs health checks from systemd timers; without systemd as PID 1 they never run and
# `service_healthy` waits forever. This loop runs them instead, for the project's containers:
# every 2 s while a container is not yet healthy, every 15 s once it is (a check costs a
# process, and the machine has 2 cores). Checks run side by side, at most one per container:
# one a slow check must not hold up the others. Run it in the background; stop it by its PID.
#   infra/compose/healthchecks.sh PROJECT
set -uo pipefail
project="$1"
declare -A last running
trap 'kill "${running[@]}" 2>/dev/null; exit 0' TERM INT
while true; do
  now=$(date +%s)
  # Status reads "Up 5 seconds (starting)", "(healthy)" or "(unhealthy)" when a check exists.
  while read -r id status; do
    case "$status" in
      *"(healthy)"*) wait=15 ;;
      *"(starting)"* | *"(unhealthy)"*) wait=2 ;;
      *) continue ;;
    esac
    if [[ -n "${running[$id]:-}" ]] && kill -0 "${running[$id]}" 2>/dev/null; then
      continue
    fi
    if (( now - ${last[$id]:-0} >= wait )); then
      podman healthcheck run "$id" >/dev/null 2>&1 &
      running[$id]=$!
      last[$id]=$now
    fi
  done < <(podman ps --filter "label=com.docker.compose.project=$project" \
             --format '{{.ID}} {{.Status}}' 2>/dev/null)
  sleep 1
done
