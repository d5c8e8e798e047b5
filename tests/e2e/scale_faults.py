"""The faults of a scaled-out pipeline, as inject/heal pairs for `scenario.run_scenario`:
a worker joining a consumer group mid-flow, one of two workers leaving (gracefully or by
kill -9), and the broker leading a raw topic's partition killed (an election) or paused.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient
from faults import component, kill_component, restart_component
from groups import committed_now, served_again, wait_until_stable
from injectors import Fault

from infra.demo import start_services
from infra.kafka_server import cluster_bootstrap
from streams.settings import StreamsSettings
from tests.kafka_clients import kafka_kwargs

_streams = StreamsSettings()
# The consumer group each faust worker joins (an orchestration worker polls Temporal instead).
GROUP_OF = {"normalizer": _streams.NORMALIZER_APP_ID, "starter": _streams.STARTER_APP_ID}


def join(name: str) -> Fault:
    """Start another worker (stopped before the flow) while webhooks flow."""
    return Fault("join", name, 0.0, lambda: start_services([component(name)]), lambda: None)


def leave(name: str, downtime: float, *, kill: bool) -> Fault:
    """One of two workers leaves, by kill -9 or by SIGTERM (a graceful leave), and is started
    again `downtime` s later, or once its group has settled without it if that takes longer.

    `stable_without_s` is how long after it left its group was Stable again with the survivor
    alone: until then its partitions had no consumer. A killed worker is noticed only when
    its session times out (BROKER_SESSION_TIMEOUT_SECONDS); a stopped one says goodbye.
    `served_again_s` is how long until every partition that got records meanwhile was
    consumed again: for the normalizer, that includes recovering the moved partitions of its
    dedup table (from a standby replica, or from the changelog without one).
    """
    notes: dict = {}
    group = GROUP_OF.get(name.split("-")[0])

    def inject() -> None:
        server = component(name)
        before = committed_now(group) if group else {}
        if kill:
            left_at = kill_component(server)
        else:
            left_at = time.monotonic()
            server.stop()
        if group:
            notes["stable_without_s"] = wait_until_stable({group: 1}, timeout=120,
                                                          since=left_at)
            notes["served_again_s"] = served_again(group, before, since=left_at)
        time.sleep(max(0.0, downtime - (time.monotonic() - left_at)))
        restart_component(component(name))

    return Fault("kill -9" if kill else "stop", name, 0.0, inject, lambda: None, notes=notes)


DEDUP_CHANGELOG = f"{_streams.NORMALIZER_APP_ID}-dedup-seen-changelog"


async def _records_in(topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=cluster_bootstrap(),
                                **kafka_kwargs(), request_timeout_ms=5000)
    await admin.start()
    try:  # the broker's description: an unassigned consumer knows no partitions
        [found] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for p in found["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster_bootstrap(),
                                **kafka_kwargs(), request_timeout_ms=5000)
    await consumer.start()
    try:
        starts, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        return sum(ends[tp] - starts[tp] for tp in tps)
    finally:
        await consumer.stop()


def dedup_changelog_records() -> int:
    """Records in the dedup table's changelog: what a recovery without a standby replays."""
    return asyncio.run(_records_in(DEDUP_CHANGELOG))


def node_name(node_id: int) -> str:
    return "kafka" if node_id == 1 else f"kafka-{node_id}"


async def _leader(topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster_bootstrap(),
                                **kafka_kwargs(), request_timeout_ms=5000)
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
