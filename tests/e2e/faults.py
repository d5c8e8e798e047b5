"""Fault injection on the real local stack: a recording webhook sender, kill -9 and restart,
and the per-event accounting every fault run is judged by (`scenario.run_scenario`).

The sender keeps every webhook's HTTP status, so a run is judged event by event: each one
that got a 2xx must be in PostgreSQL exactly once, whatever was killed meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from contracts.workflows import PAYMENT_EVENT
from infra import stack
from infra.demo import start_services
from infra.servers import Server, pid_alive, wait_until
from infra.services import AppService, all_services, demo_environment
from infra.stack import all_servers
from infra.stack_env import admin_dsn
from streams.simulation.generator import GeneratedEvent, generate_events
from streams.simulation.signing import sign_stripe
from streams.simulation.simulate import pace

GATEWAY_URL = "http://127.0.0.1:8000/webhooks/stripe"


@dataclass(slots=True)
class Sent:
    """One webhook and what the gateway answered (status None: no answer at all)."""

    event: GeneratedEvent
    status: int | None = None
    outcome: str | None = None  # the gateway's "status": accepted or dead_lettered

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def send_events(events: list[GeneratedEvent], rate: float, secret: str,
                      url: str = GATEWAY_URL) -> list[Sent]:
    """Post the events signed at `rate`/s, recording each answer; no retries."""
    results = [Sent(e) for e in events]
    async with httpx.AsyncClient(timeout=10) as client:

        async def send(sent: Sent) -> None:
            header = sign_stripe(sent.event.body, secret, int(time.time()))
            try:
                resp = await client.post(url, content=sent.event.body, headers={
                    "Stripe-Signature": header, "Content-Type": "application/json"})
            except httpx.HTTPError:
                return
            sent.status = resp.status_code
            sent.outcome = resp.json().get("status") if resp.content[:1] == b"{" else None

        await pace(results, rate, send)
    return results


class BackgroundFlow:
    """The sender on its own thread and event loop while the test kills things."""

    def __init__(self, seed: int, rate: float, duration: float) -> None:
        self.seed = seed
        self.prefix = f"evt_sim{seed}_"
        self.rate = rate
        self.events = list(generate_events(int(rate * duration), seed=seed))
        self.results: list[Sent] = []
        self.started_at = time.time()
        self.finished_mono: float | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            secret = demo_environment()["STRIPE_WEBHOOK_SECRET"]
            self.results = asyncio.run(send_events(self.events, self.rate, secret))
        except BaseException as exc:  # noqa: BLE001 - re-raised in join()
            self._error = exc
        finally:
            self.finished_mono = time.monotonic()

    def start(self) -> BackgroundFlow:
        self.started_at = time.time()
        self._thread.start()
        return self

    def join(self, timeout: float = 300) -> list[Sent]:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the webhook sender did not finish")
        if self._error is not None:
            raise self._error
        return self.results


def component(name: str) -> Server:
    """A stack server or a pipeline service by name, fresh (no stale Popen handle)."""
    for candidate in [*all_servers(), *all_services()]:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").glob("[0-9]*") if parent_of(int(p.name)) == pid]


def kill_component(server: Server) -> float:
    """kill -9 the component (its process group; PostgreSQL: its postmaster); when it died."""
    pid = server.read_pid()
    if pid is None:
        raise RuntimeError(f"{server.name} is not running; nothing to kill")
    if server.name == "postgres":
        orphans = _children(pid)
        os.kill(pid, signal.SIGKILL)
    else:
        orphans = []
        os.killpg(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: not pid_alive(pid), 30, f"{server.name} death")
    # Backends notice their postmaster's death and exit; a stale one would hold the
    # shared memory and refuse the restart, so any straggler is killed too.
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    for orphan in orphans:
        if pid_alive(orphan):
            os.kill(orphan, signal.SIGKILL)
    return killed_at


def restart_component(server: Server) -> None:
    """Start it again and wait until it answers its readiness probe."""
    if isinstance(server, AppService):
        start_services([server])
    else:
        stack.up([server.name])


async def _running_payment_workflows() -> int:
    from temporalio.client import Client

    client = await Client.connect("127.0.0.1:7233")
    query = f"WorkflowType = '{PAYMENT_EVENT.workflow}' AND ExecutionStatus = 'Running'"
    return (await client.count_workflows(query)).count


def wait_for_quiet_pipeline(limit: int = 300, timeout: float = 120) -> None:
    """Someone else's backlog would be timed as ours (and outlast any drain timeout)."""
    deadline = time.monotonic() + timeout
    while (running := asyncio.run(_running_payment_workflows())) > limit:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the shared pipeline is busy: {running} PaymentEventWorkflows are still "
                f"running (another run's backlog); try again once it has drained")
        time.sleep(5)


def ensure_pipeline() -> list[str]:
    """Every server and service up and ready; returns the services that had to be restarted."""
    stack.up([])
    services = all_services()
    dead = [s.name for s in services if not s.is_running()]
    start_services(services)
    return dead


def body_digest(body: bytes) -> str:
    """How quarantine names a body: its payload is redacted, its sha256 is the original's."""
    return hashlib.sha256(body).hexdigest()


async def _fetch_rows(prefix: str, digests: list[str], since: float) -> tuple[Counter, Counter,
                                                                               Counter]:
    conn = await asyncpg.connect(admin_dsn(), timeout=5)
    try:
        events = await conn.fetch(
            "SELECT provider_event_id FROM payment_events WHERE provider_event_id LIKE $1",
            prefix + "%")
        quarantined = await conn.fetch(
            "SELECT provider_event_id, payload_sha256 FROM payment_events_quarantine "
            "WHERE provider_event_id LIKE $1 OR (quarantined_at >= to_timestamp($3) "
            "AND payload_sha256 = ANY($2::text[]))", prefix + "%", digests, since)
    finally:
        await conn.close()
    return (Counter(r["provider_event_id"] for r in events),
            Counter(r["provider_event_id"] for r in quarantined),
            Counter(r["payload_sha256"] for r in quarantined))


@dataclass
class Accounting:
    """Per-event reconciliation of one flow against PostgreSQL."""

    sent: int
    acknowledged: int
    rejected: int
    errors: int
    expected: int  # distinct events with a 2xx that must be stored
    persisted: int
    duplicated: int
    lost: int
    unacknowledged_stored: int  # stored although no 2xx was given (allowed)
    missing: list[str] = field(default_factory=list)


def account(flow: BackgroundFlow, results: list[Sent]) -> Accounting:
    """Match every 2xx'd webhook to its row: payment_events by id, quarantine by body."""
    acked = [s for s in results if s.acknowledged]
    valid = {s.event.key for s in acked if s.event.kind != "invalid"}
    # Ids of invalid events may be unreadable, so their quarantine row is found by the
    # original body's sha256 (the row keeps the body redacted, and the digest of the original).
    invalid = {body_digest(s.event.body) for s in acked
               if s.event.kind == "invalid" and s.outcome == "accepted"}
    all_bodies = [body_digest(s.event.body) for s in results if s.event.kind == "invalid"]
    rows, quarantined_ids, quarantined_bodies = asyncio.run(
        _fetch_rows(flow.prefix, all_bodies, flow.started_at - 5))
    stored_valid = {k for k in valid if rows[k]}
    stored_invalid = {b for b in invalid if quarantined_bodies[b]}
    duplicated = (sum(n - 1 for n in rows.values() if n > 1)
                  + sum(quarantined_ids[k] for k in valid)
                  + sum(quarantined_bodies[b] - 1 for b in invalid if quarantined_bodies[b] > 1))
    missing = sorted(valid - stored_valid) + sorted(invalid - stored_invalid)
    sent_keys = {s.event.key for s in results}
    # Id-less invalid events are quarantined under a NULL provider_event_id.
    unacked = (set(rows) - valid) | (set(quarantined_ids) - {s.event.key for s in acked}
                                     - {None})
    assert unacked <= sent_keys, f"rows for events never sent: {sorted(unacked - sent_keys)}"
    return Accounting(
        sent=len(results), acknowledged=len(acked),
        rejected=sum(1 for s in results if s.status is not None and not s.acknowledged),
        errors=sum(1 for s in results if s.status is None),
        expected=len(valid) + len(invalid), persisted=len(stored_valid) + len(stored_invalid),
        duplicated=duplicated, lost=len(missing), unacknowledged_stored=len(unacked),
        missing=missing[:20],
    )
