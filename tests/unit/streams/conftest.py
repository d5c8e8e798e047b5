"""Unit fixtures for streams: the memory store, set before any streams app is imported."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import orjson
import pytest
from faust.types import TP
from faust.types.tuples import RecordMetadata

from tests.builders import make_stripe_webhook

# faust reads its store when an app module is imported, so the apps are imported here,
# under the memory store, and the environment is put back at once: pytest runs every test
# in one process, and the workers that integration and e2e tests start inherit its
# environment (they once ran on memory:// this way, not on RocksDB).
_saved = {name: os.environ.get(name) for name in ("STREAMS_STORE", "STREAMS_DATA_DIR")}
os.environ["STREAMS_STORE"] = "memory://"
os.environ.setdefault("STREAMS_DATA_DIR", tempfile.mkdtemp(prefix="streams-unit-"))
import streams.normalizer  # noqa: E402,F401
import streams.simulator  # noqa: E402,F401
import streams.starter  # noqa: E402,F401

for _name, _value in _saved.items():
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value


@pytest.fixture
def stripe_event():
    """stripe_event(fixture_name, **object_overrides): a fixture with a fresh event id."""
    return make_stripe_webhook


class RecordedBatch:
    """aiokafka's BatchBuilder as far as the changelog uses it."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes | None]] = []

    def append(self, *, key, value, timestamp):
        self.records.append((key, value))
        return object()


class SentRecorder:
    """Stands in for the normalizer's producer: records what was produced and acks it at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, int | None]] = []

    async def send(self, topic, key, value, partition, timestamp, headers, **_: Any):
        self.sent.append((topic, key, value, partition))
        done = asyncio.get_running_loop().create_future()
        done.set_result(RecordMetadata(topic, partition or 0, TP(topic, partition or 0),
                                       len(self.sent), None, None))
        return done

    # aiokafka's batch API, which the dedup changelog is written through (streams/changelog.py)
    def create_batch(self) -> RecordedBatch:
        return RecordedBatch()

    async def send_batch(self, batch: RecordedBatch, topic: str, *, partition: int):
        first = len(self.sent) + 1
        self.sent.extend((topic, key, value, partition) for key, value in batch.records)
        done = asyncio.get_running_loop().create_future()
        done.set_result(RecordMetadata(topic, partition, TP(topic, partition), first, None, None))
        return done

    def on(self, topic_name: str) -> list[tuple[str, bytes]]:
        """(key, value) of what went to a topic, the key decoded as the agents encode it."""
        return [(k.decode(), v) for t, k, v, _ in self.sent if t == topic_name]


@pytest.fixture
def sent(monkeypatch) -> SentRecorder:
    from streams import normalizer

    recorder = SentRecorder()
    monkeypatch.setattr(normalizer.app.producer, "send", recorder.send)
    monkeypatch.setattr(normalizer, "batch_producer", lambda: recorder)
    return recorder


def as_bytes(event: dict) -> bytes:
    return orjson.dumps(event)

