"""Unit fixtures for streams: the memory store, set before any streams app is imported."""

from __future__ import annotations

import asyncio
import copy
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

# faust reads its store when the app module is imported, so this must come first.
os.environ["STREAMS_STORE"] = "memory://"
os.environ.setdefault("STREAMS_DATA_DIR", tempfile.mkdtemp(prefix="streams-unit-"))

FIXTURES_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "stripe"
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES_DIR.glob("*.json"))


def load_fixture(name: str) -> dict[str, Any]:
    return orjson.loads((FIXTURES_DIR / f"{name}.json").read_bytes())


def make_stripe_event(name: str = "payment_intent.succeeded", **object_overrides) -> dict:
    """A fixture with a fresh event id, and data.object fields overridden."""
    event = copy.deepcopy(load_fixture(name))
    event["id"] = f"evt_{uuid.uuid4().hex}"
    event["data"]["object"].update(object_overrides)
    return event


@pytest.fixture
def stripe_event():
    return make_stripe_event


class SentRecorder:
    """Stands in for topic.send: records what was produced and acks it at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def patch(self, monkeypatch, topic) -> None:
        async def send(*, key=None, value=None, **_: Any):
            self.sent.append((topic.get_topic_name(), key, value))
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        monkeypatch.setattr(topic, "send", send)

    def on(self, topic_name: str) -> list[tuple[str, Any]]:
        return [(k, v) for t, k, v in self.sent if t == topic_name]


@pytest.fixture
def sent(monkeypatch) -> SentRecorder:
    from streams import normalizer

    recorder = SentRecorder()
    recorder.patch(monkeypatch, normalizer.normalized_topic)
    recorder.patch(monkeypatch, normalizer.dlq_topic)
    return recorder


def as_bytes(event: dict) -> bytes:
    return orjson.dumps(event)
