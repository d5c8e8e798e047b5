"""Stall detection from the broker's own numbers: committed offsets against end offsets.

A partition is *stalled* when it has lag (end offset > committed offset) and its consumer
group's committed offset has not moved for a whole window (60 s in the fault suite),
measured only after the fault healed. It is read from outside, with an aiokafka admin
client and consumer, so it holds whatever a worker's own readiness says.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from poison import CONSUMED_TOPICS

from infra.kafka_server import cluster_bootstrap
from streams.settings import StreamsSettings
from tests.kafka_clients import kafka_kwargs

_settings = StreamsSettings()
# The pipeline's consumer groups (a faust app's group id is its app id). Test groups of
# other runs are left out: their lag is nobody's stall.
GROUPS = (_settings.NORMALIZER_APP_ID, _settings.STARTER_APP_ID)


@dataclass(slots=True)
class PartitionState:
    committed: int
    end: int
    steady_since: float | None  # when it last had lag with this committed offset

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


async def read_offsets(admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer
                       ) -> dict[tuple[str, TopicPartition], tuple[int, int]]:
    """(group, partition) -> (committed, end) for the pipeline topics each group commits."""
    committed: dict[tuple[str, TopicPartition], int] = {}
    for group in GROUPS:
        offsets = await admin.list_consumer_group_offsets(group)
        for tp, meta in offsets.items():
            if tp.topic in CONSUMED_TOPICS and meta is not None and meta.offset >= 0:
                committed[(group, tp)] = meta.offset
    ends = await consumer.end_offsets(list({tp for _, tp in committed}))
    return {key: (offset, ends[key[1]]) for key, offset in committed.items()}


class StallWatch:
    """Samples every group's offsets on its own thread from `start()` (the heal) on."""

    def __init__(self, window: float = 60.0, every: float = 2.0,
                 bootstrap: str | None = None) -> None:
        # Every broker: on a cluster, the watch must outlive the one a fault kills.
        self.window, self.every = window, every
        self.bootstrap = bootstrap or cluster_bootstrap()
        self.states: dict[tuple[str, TopicPartition], PartitionState] = {}
        self.samples = 0
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> StallWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _run(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap,
                                    **kafka_kwargs(), request_timeout_ms=5000)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                    **kafka_kwargs(), enable_auto_commit=False,
                                    request_timeout_ms=5000)
        try:
            await admin.start()
            await consumer.start()
            while not self._stop.is_set():
                try:
                    offsets = await asyncio.wait_for(read_offsets(admin, consumer), 10)
                except Exception:  # noqa: BLE001 - a missed sample is only a gap
                    self.errors += 1
                else:
                    self._record(offsets, time.monotonic())
                await asyncio.sleep(self.every)
        finally:
            await consumer.stop()
            await admin.close()

    def _record(self, offsets, now: float) -> None:
        with self._lock:
            self.samples += 1
            for key, (committed, end) in offsets.items():
                old = self.states.get(key)
                steady = None
                if end > committed:
                    moved = old is None or old.committed != committed
                    steady = now if moved or old.steady_since is None else old.steady_since
                self.states[key] = PartitionState(committed, end, steady)

    def stalled(self) -> list[str]:
        """Partitions with lag whose committed offset stood still for the whole window."""
        now = time.monotonic()
        with self._lock:
            return sorted(f"{group}:{tp.topic}[{tp.partition}] lag {state.lag}"
                          for (group, tp), state in self.states.items()
                          if state.steady_since is not None
                          and now - state.steady_since >= self.window)

    def caught_up(self) -> bool:
        """Every group committed up to every end offset, in at least one sample."""
        with self._lock:
            return self.samples > 0 and all(s.lag == 0 for s in self.states.values())

    def total_lag(self) -> int:
        with self._lock:
            return sum(s.lag for s in self.states.values())
