"""Helpers shared by the gateway unit tests: fixture paths, Stripe signing, a fake publisher."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from contracts.limits import (
    MAX_HEADERS_BYTES,
    MAX_KEY_BYTES,
    MAX_RECORD_BYTES,
    MAX_VALUE_BYTES,
    headers_size,
)
from gateway.errors import PublishUnavailableError

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "stripe"
FIXTURES = sorted(FIXTURES_DIR.glob("*.json"))
SECRET = "whsec_test_unit_primary_0123456789abcdef"
ROTATED_SECRET = "whsec_test_unit_rotated_0123456789abcdef"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header built from Stripe's documented scheme, not its library."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def assert_within_budget(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    """Every record the gateway writes fits contracts/limits.py, part by part and whole."""
    assert len(key) <= MAX_KEY_BYTES, f"key of {len(key)} bytes"
    assert headers_size(headers) <= MAX_HEADERS_BYTES, f"headers of {headers_size(headers)}"
    assert len(value) <= MAX_VALUE_BYTES, f"value of {len(value)} bytes"
    assert DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers) \
        <= MAX_RECORD_BYTES


class MemoryPublisher:
    """Stands in for Kafka in HTTP-behaviour tests only; the Kafka seam has its own tests.

    It checks the record budget on every write, so every HTTP test also proves it.
    """

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []
        self.unavailable = False
        self.connected = True

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, topic, key, value, headers) -> None:
        if self.unavailable:
            raise PublishUnavailableError("kafka_unavailable", "test: broker down", topic=topic)
        assert_within_budget(key, value, headers)
        self.records.append((topic, key, value, headers))

    async def check_ready(self) -> str | None:
        return "kafka_unavailable" if self.unavailable else None
