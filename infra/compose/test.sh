#!/usr/bin/env bash
# `make test-compose`: docker-compose.yml, really run, under podman on this machine kind.
#   1. install podman, runc, mmdebstrap if missing; make the base image once (base.sh);
#   2. serve podman's Docker API and run the health checks (engine.sh, healthchecks.sh);
#   3. `docker compose build`, then `up --build`: the stack, the simulator, the reconciliation;
#   4. whatever happened: the failing containers' logs, `down -v`, the host as it was.
# Published ports are 127.0.0.1:COMPOSE_PORT_BASE.. (default 18000-18010), never the local stack's.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=infra/compose
state="$PWD/.stack/compose"
project="${COMPOSE_PROJECT:-payments-compose-test}"
mkdir -p "$state"
compose_bin="$(.venv/bin/python -c \
  'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')"
# Settings podman needs here (infra/compose/README.md says why).
export CONTAINERS_CONF="$PWD/$here/containers.conf" DOCKER_BUILDKIT=0 \
  DOCKER_HOST="unix://$state/podman.sock"
compose=("$compose_bin" -p "$project" -f docker-compose.yml --env-file "$state/compose.env")
# A long step runs in the background and is waited for, so that a signal reaches the traps
# at once (bash runs them only after a foreground command ends); cleanup stops it first.
child=""
in_background() { "$@" & child=$!; wait "$child"; local rc=$?; child=""; return "$rc"; }
step() { printf '\n== test-compose: %s (at %ss)\n' "$1" "$SECONDS"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$child" ]]; then
    kill "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 ]]; then
    step "FAILED (exit $rc): logs of the failing containers"
    "$here/logs.sh" "$project" || true
  fi
  step "down -v"
  [[ -S "$state/podman.sock" ]] && "${compose[@]}" down -v --remove-orphans --timeout 20 || true
  if [[ -f "$state/healthchecks.pid" ]]; then
    kill "$(cat "$state/healthchecks.pid")" 2>/dev/null || true
    rm -f "$state/healthchecks.pid"
  fi
  "$here/engine.sh" stop "$state" || true
  # Images that a rebuild replaced; the current ones (and their build cache) stay.
  podman image prune -f >/dev/null 2>&1 || true
  rm -f "$state/compose.env"
  step "$([[ $rc -eq 0 ]] && echo passed || echo FAILED) in ${SECONDS}s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "install"
"$here/install.sh"
step "base image"
"$here/base.sh" "${BASE_IMAGE:-localhost/bookworm-base:latest}"
"$here/env.sh" "$state/compose.env"
step "podman API service"
"$here/engine.sh" start "$state"
"$here/healthchecks.sh" "$project" &
echo $! > "$state/healthchecks.pid"

# One image at a time: the machine has 2 cores and other work runs beside this.
step "build"
in_background env COMPOSE_PARALLEL_LIMIT=1 "${compose[@]}" build
step "up --build (the stack, then the simulator)"
in_background "${compose[@]}" up --build --detach
step "reconciliation"
reconcile_id="$("${compose[@]}" ps --all --quiet reconcile)"
in_background podman wait "$reconcile_id" > "$state/reconcile.exit"
podman logs "$reconcile_id"
code="$(cat "$state/reconcile.exit")"
[[ "$code" == 0 ]] || { echo "test-compose: the reconciliation failed (exit $code)" >&2; exit 1; }
