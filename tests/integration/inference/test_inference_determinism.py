"""The same requests get byte-identical answers from two uvicorn processes.

The two servers run with different PYTHONHASHSEED values, so any use of the salted
built-in hash(), or set iteration order over strings, in a model shows up as a diff.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_S = 30.0
CODES = [
    "insufficient_funds",
    "card_declined",
    "generic_decline",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "do_not_honor",
    "fraudulent",
    "lost_card",
    "stolen_card",
    "authentication_required",
    "try_again_later",
    "card_velocity_exceeded",
    "Not Enough Balance",
]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KRW", "INR", "CHF", "XTS"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(hash_seed: str, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "inference.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=1.0).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"uvicorn not ready after {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    logs = tmp_path_factory.mktemp("inference-determinism")
    started: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        # Seeds 0 and a random-looking constant: 0 disables salting, 4242 salts differently.
        for seed in ("0", "4242"):
            process, url = _start_server(seed, logs / f"uvicorn-{seed}.log")
            started.append(process)
            urls.append(url)
        yield urls
    finally:
        for process in started:
            _stop(process)


def _money(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.3:
        return {}
    amount = rng.choice([0, 50, 999, 4_999, 120_000, 600_000, 2_500_000, 100_000_000])
    return {"amount_cents": amount, "currency": rng.choice(CURRENCIES)}


def _history(rng: random.Random, customer_id: str) -> dict[str, Any]:
    failed = rng.choice([0, 1, 3, 8, 40])
    successful = rng.choice([0, 1, 5, 12, 30, 200])
    return {
        "customer_id": customer_id,
        "successful_payments": successful,
        "failed_payments": failed,
        "consecutive_failures": rng.randint(0, failed),
        "days_since_last_success": None if successful == 0 else rng.choice([0, 5, 35, 70, 400]),
        "total_amount_cents": successful * rng.choice([500, 4_999, 250_000]),
    }


def build_requests(count: int = 300) -> list[tuple[str, dict[str, Any]]]:
    """A fixed, varied set of valid requests: a seeded generator, not the global one."""
    rng = random.Random(20240601)
    requests: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        event_id = f"stripe:evt_{n:05d}"
        customer_id = f"cus_{rng.randint(1, 50):03d}"
        kind = n % 4
        if kind == 0:
            body: dict[str, Any] = {
                "event_id": event_id,
                "amount_cents": rng.choice([0, 50, 4_999, 120_000, 600_000, 2_500_000]),
                "currency": rng.choice(CURRENCIES),
                "card_brand": rng.choice([None, "visa", "mastercard", "amex", "jcb", "odd"]),
                "payment_method_type": rng.choice([None, "card", "sepa_debit", "klarna", "x"]),
                "customer_id": rng.choice([None, customer_id]),
            }
            if body["customer_id"] and rng.random() < 0.6:
                body["customer_history"] = _history(rng, customer_id)
            requests.append(("/fraud/score", body))
        elif kind == 1:
            body = {
                "event_id": event_id,
                "failure_code": rng.choice(CODES),
                "attempt_count": rng.randint(1, 12),
                **_money(rng),
            }
            requests.append(("/retry/strategy", body))
        elif kind == 2:
            requests.append(("/churn/predict", _history(rng, customer_id)))
        else:
            body = {
                "event_id": event_id,
                "failure_code": rng.choice(CODES),
                "attempt_number": rng.randint(1, 20),
                **_money(rng),
            }
            if rng.random() < 0.5:
                body["customer_id"] = customer_id
            requests.append(("/recovery/recommend", body))
    return requests


def test_two_processes_answer_identically(servers: list[str]) -> None:
    requests = build_requests()
    answers: list[list[tuple[int, bytes]]] = []
    for base_url in servers:
        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            answers.append(
                [
                    (r.status_code, r.content)
                    for r in (client.post(path, json=body) for path, body in requests)
                ]
            )
    first, second = answers
    assert all(status == 200 for status, _ in first), [a for a in first if a[0] != 200][:3]
    mismatches = [
        (path, body, a, b)
        for (path, body), a, b in zip(requests, first, second, strict=True)
        if a != b
    ]
    assert not mismatches, mismatches[:3]
    # Guard against a vacuous pass: the inputs must actually exercise varied outputs.
    for endpoint in {path for path, _ in requests}:
        distinct = {
            c for (path, _), (_, c) in zip(requests, first, strict=True) if path == endpoint
        }
        assert len(distinct) >= 10, endpoint
