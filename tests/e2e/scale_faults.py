"""The faults of a scaled-out pipeline, as inject/heal pairs for `scenario.run_scenario`:
a worker joining a consumer group mid-flow, one of two workers leaving (gracefully or by
kill -9), and the broker leading a raw topic's partition killed (an election) or paused.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient
from faults import component, kill_component, restart_component
from injectors import Fault

from infra.demo import start_services
from infra.kafka_server import cluster_bootstrap


def join(name: str) -> Fault:
    """Start another worker (stopped before the flow) while webhooks flow."""
    return Fault("join", name, 0.0, lambda: start_services([component(name)]), lambda: None)


def stop(name: str, downtime: float) -> Fault:
    """SIGTERM one of two workers (a graceful leave), and start it again after `downtime`."""
    def inject() -> None:
        component(name).stop()
        time.sleep(downtime)
        restart_component(component(name))

    return Fault("stop", name, 0.0, inject, lambda: None)


def node_name(node_id: int) -> str:
    return "kafka" if node_id == 1 else f"kafka-{node_id}"


async def _leader(topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster_bootstrap(), request_timeout_ms=5000)
    await admin.start()
    try:
        [found] = await admin.describe_topics([topic])
        return next(p["leader"] for p in found["partitions"] if p["partition"] == partition)
    finally:
        await admin.close()


def kill_leader(topic: str, downtime: float, partition: int = 0) -> Fault:
    """kill -9 the broker leading `topic`'s partition, so another replica is elected; start
    it again after `downtime` s."""
    notes: dict = {}

    def inject() -> None:
        name = node_name(asyncio.run(_leader(topic, partition)))
        notes["broker"] = name
        kill_component(component(name))
        time.sleep(downtime)
        restart_component(component(name))
        notes["new_leader"] = node_name(asyncio.run(_leader(topic, partition)))

    return Fault("kill -9", f"leader of {topic}[{partition}]", 0.0, inject, lambda: None,
                 notes=notes)
