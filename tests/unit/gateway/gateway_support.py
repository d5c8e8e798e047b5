"""Helpers shared by the gateway unit tests: fixture paths, Stripe signing, a fake publisher."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

from gateway.errors import PublishUnavailableError

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "stripe"
FIXTURES = sorted(FIXTURES_DIR.glob("*.json"))
SECRET = "whsec_test_unit_primary"
ROTATED_SECRET = "whsec_test_unit_rotated"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header built from Stripe's documented scheme, not its library."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class MemoryPublisher:
    """Stands in for Kafka in HTTP-behaviour tests only; the Kafka seam has its own tests."""

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
        self.records.append((topic, key, value, headers))

    async def check_ready(self) -> bool:
        return not self.unavailable
