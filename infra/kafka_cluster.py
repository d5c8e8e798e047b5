"""The local Kafka cluster's shape: one broker (the default) or several, in KRaft mode.

``STACK_KAFKA_BROKERS`` (default 1) says how many. One broker keeps the ports every test and
``make demo`` use (9092, controller 9093) and the Toxiproxy listeners the fault suite
drives. Several run as combined broker+controller nodes on consecutive client ports from
``KAFKA_PORT`` (9092, 9093, 9094) with controllers from ``KAFKA_MULTI_CONTROLLER_PORT``
(9292, 9293, 9294); they have no proxied listeners, because each broker would need its own
set of proxies and the scale-out faults (kills, pauses, elections) need none.

Replication follows the size: three or more brokers give every topic, and the internal
offsets and transaction topics and faust's changelogs, three replicas with
``min.insync.replicas=2``, so ``acks=all`` means two disks, and losing one broker loses
no acknowledged write. Pure: the numbers in, the shape out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

BROKERS_SETTING = "STACK_KAFKA_BROKERS"
MAX_BROKERS = 5
MULTI_CONTROLLER_PORT = int(os.environ.get("KAFKA_MULTI_CONTROLLER_PORT", "9292"))


class ClusterConfigError(ValueError):
    """A cluster setting that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class KafkaNode:
    node_id: int
    port: int  # clients (and the other brokers) connect here
    controller_port: int
    proxied: bool  # carries the Toxiproxy listeners (the single-broker stack only)

    @property
    def name(self) -> str:
        # The first node keeps the single broker's name, state folder and log.
        return "kafka" if self.node_id == 1 else f"kafka-{self.node_id}"


@dataclass(frozen=True, slots=True)
class Replication:
    factor: int
    min_insync: int


def broker_count(env: Mapping[str, str] = os.environ) -> int:
    raw = env.get(BROKERS_SETTING, "1").strip()
    try:
        count = int(raw)
    except ValueError:
        raise ClusterConfigError(f"{BROKERS_SETTING}={raw!r} is not a whole number") from None
    if not 1 <= count <= MAX_BROKERS:
        raise ClusterConfigError(f"{BROKERS_SETTING}={count} is outside 1..{MAX_BROKERS}")
    return count


def cluster_nodes(count: int, port: int, controller_port: int,
                  multi_controller_port: int = MULTI_CONTROLLER_PORT) -> tuple[KafkaNode, ...]:
    if count == 1:
        return (KafkaNode(1, port, controller_port, proxied=True),)
    return tuple(KafkaNode(i + 1, port + i, multi_controller_port + i, proxied=False)
                 for i in range(count))


def replication(count: int) -> Replication:
    """Three replicas once there are three brokers; two must hold a write (one may be down)."""
    factor = min(3, count)
    return Replication(factor, 2 if factor >= 3 else 1)


def bootstrap(nodes: tuple[KafkaNode, ...]) -> str:
    """Every broker: a client that starts while one is down still finds the cluster."""
    return ",".join(f"127.0.0.1:{node.port}" for node in nodes)


def quorum_voters(nodes: tuple[KafkaNode, ...]) -> str:
    return ",".join(f"{node.node_id}@127.0.0.1:{node.controller_port}" for node in nodes)
