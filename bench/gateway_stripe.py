"""Pre-built, pre-signed Stripe webhook requests for the gateway benchmark."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import orjson

FIXTURES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "stripe"


def signed_requests(secret: str, run_id: str, count: int) -> list[bytes]:
    """``count`` raw HTTP requests over the real fixtures, each with its own bench event id."""
    fixtures = [path.read_bytes() for path in sorted(FIXTURES_DIR.glob("*.json"))]
    timestamp = int(time.time())
    requests = []
    for i in range(count):
        body = fixtures[i % len(fixtures)]
        old_id = orjson.loads(body)["id"]
        body = body.replace(f'"{old_id}"'.encode(), f'"evt_bench_{run_id}_{i}"'.encode(), 1)
        digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        requests.append(
            b"POST /webhooks/stripe HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\n"
            + f"Stripe-Signature: t={timestamp},v1={digest.hexdigest()}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return requests
