#!/usr/bin/env bash
# podman's Docker-compatible API for compose, and the host settings it changes.
#   infra/compose/engine.sh start|stop STATE_DIR
# start: records net.ipv4.ip_forward and the nft tables, serves STATE_DIR/podman.sock.
# stop:  stops that service by its PID, restores ip_forward, drops the nft tables netavark
#        added (only tables that did not exist before start).
set -euo pipefail
action="$1"
state="$2"
mkdir -p "$state"
case "$action" in
  start)
    sysctl -n net.ipv4.ip_forward > "$state/ip_forward.before"
    nft list tables 2>/dev/null > "$state/nft-tables.before" || true
    rm -f "$state/podman.sock"
    podman system service --time=0 "unix://$state/podman.sock" > "$state/podman-service.log" 2>&1 &
    echo $! > "$state/podman-service.pid"
    for _ in $(seq 100); do [[ -S "$state/podman.sock" ]] && exit 0; sleep 0.1; done
    echo "compose: podman system service did not open $state/podman.sock" >&2
    cat "$state/podman-service.log" >&2
    exit 1
    ;;
  stop)
    if [[ -f "$state/podman-service.pid" ]]; then
      pid="$(cat "$state/podman-service.pid")"
      kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f "$state/podman-service.pid" "$state/podman.sock"
    fi
    if [[ -f "$state/ip_forward.before" ]]; then
      sysctl -q -w "net.ipv4.ip_forward=$(cat "$state/ip_forward.before")"
      rm -f "$state/ip_forward.before"
    fi
    if [[ -f "$state/nft-tables.before" ]]; then
      nft list tables 2>/dev/null | while read -r _ family name; do
        grep -qx "table $family $name" "$state/nft-tables.before" || nft delete table "$family" "$name"
      done
      rm -f "$state/nft-tables.before"
    fi
    ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
