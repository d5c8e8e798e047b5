"""Bad input against the running pipeline: it is refused with a clear error or dead-lettered,
never a 500, and no worker dies.

Over HTTP, hypothesis sends the gateway random paths, methods, content types, bodies and
signatures (some valid, signed with the demo secret). On Kafka, malformed messages go to
every topic a worker consumes; each must reach payment_events_quarantine, found by its
source coordinates. Counts go to .stack/bad-input-report.json.
"""

import asyncio
import json
import time
from collections import Counter

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faults import component, wait_for_quiet_pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.topics import PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ, RAW_TOPICS, WEBHOOKS_DLQ
from infra.demo import normalizer_counters
from infra.servers import STATE_DIR
from infra.services import demo_environment, http_ok
from infra.stack_env import admin_dsn
from streams.simulation.signing import sign_stripe
from tests.kafka_clients import kafka_kwargs

GATEWAY = "http://127.0.0.1:8000"
REPORT = STATE_DIR / "bad-input-report.json"
CONSUMED_TOPICS = (*RAW_TOPICS, PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ)
WORKERS = ("gateway", "normalizer", "starter", "orchestration-worker", "inference")
UNIQUE = "\x00unique-id\x00"  # replaced by a fresh event id when the body is sent

# h11 refuses header values with surrounding whitespace before they are sent.
def dumps(value) -> bytes:
    # The stdlib, not orjson: it writes integers past 64 bits, which fuzzing should send.
    return json.dumps(value).encode()


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(
    str.strip)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
stripe_like = st.fixed_dictionaries(
    {"id": st.sampled_from([UNIQUE, UNIQUE, 42, None, ""]),
     "type": st.sampled_from(["charge.succeeded", "payment_intent.payment_failed",
                              "charge.refund.updated", "refund.created", "charge.dispute.created",
                              "customer.created", "", "charge."]) | st.text(max_size=12),
     "data": st.fixed_dictionaries({"object": st.dictionaries(
         st.sampled_from(["id", "object", "amount", "currency", "status", "customer"]),
         json_values, max_size=6)}) | json_values},
    optional={"object": st.just("event"), "created": st.integers(), "livemode": st.booleans()},
)
bodies = (st.binary(max_size=600) | json_values.map(dumps)
          | stripe_like.map(lambda e: ("stripe", e)))
requests_ = st.fixed_dictionaries({
    "path": st.sampled_from(["/webhooks/stripe"] * 6 + ["/webhooks/adyen", "/webhooks/square",
                            "/webhooks/braintree", "/webhooks/", "/webhooks/stripe/x",
                            "/webhooks/nope", "/ready"]),
    "method": st.sampled_from(["POST"] * 8 + ["GET", "PUT", "DELETE"]),
    # Mostly the right type, so most requests reach the signature and body checks.
    "content_type": st.integers(0, 9).flatmap(lambda n: st.sampled_from([
        "application/json; charset=utf-8", "text/plain", "APPLICATION/JSON",
        "application/x-www-form-urlencoded", None]) | header_text if n == 0
        else st.just("application/json")),
    "signature": st.sampled_from(["valid"] * 4 + ["none", "expired", "future", "wrong_secret",
                                                  "garbage"]),
    "garbage": header_text,
    "body": bodies,
})


def signature_for(kind: str, body: bytes, secret: str, garbage: str) -> str | None:
    now = int(time.time())
    return {"none": None, "garbage": garbage,
            "valid": sign_stripe(body, secret, now),
            "expired": sign_stripe(body, secret, now - 3600),
            "future": sign_stripe(body, secret, now + 3600),
            "wrong_secret": sign_stripe(body, "whsec_not_the_secret", now)}[kind]


def worker_pids() -> dict[str, int | None]:
    return {name: component(name).read_pid() for name in WORKERS}


def all_ready(within_s: float = 30.0) -> dict[str, bool]:
    """Each worker's readiness, polled for a while: one probe can land in a moment a worker
    is briefly not ready for reasons of its own (a group rebalance, a metadata refresh),
    which says nothing about the bad input. The pids beside it show no worker restarted."""
    deadline = time.monotonic() + within_s
    ready = {name: False for name in WORKERS}
    while True:
        ready = {name: ok or component(name).healthy() for name, ok in ready.items()}
        if all(ready.values()) or time.monotonic() > deadline:
            return ready
        time.sleep(1)


def write_report(section: str, content: dict) -> None:
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[section] = content
    REPORT.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nbad input, {section}: {json.dumps(content, indent=2, default=str)}")


async def dlq_end_offset(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(WEBHOOKS_DLQ, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def read_dlq_bodies(bootstrap: str, start: int) -> set[str]:
    """The bodies written to webhooks.dlq since `start` (a record's value is the body)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    tp = TopicPartition(WEBHOOKS_DLQ, 0)
    consumer.assign([tp])
    consumer.seek(tp, start)
    found: set[str] = set()
    try:
        end = (await consumer.end_offsets([tp]))[tp]
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=2000)).values():
                found.update(r.value.decode("utf-8", "replace") for r in records)
    finally:
        await consumer.stop()
    return found


async def stored_ids(ids: list[str]) -> set[str]:
    conn = await asyncpg.connect(admin_dsn())
    try:
        rows = await conn.fetch(
            "SELECT provider_event_id FROM payment_events WHERE provider_event_id = ANY($1) "
            "UNION SELECT provider_event_id FROM payment_events_quarantine "
            "WHERE provider_event_id = ANY($1)", ids)
    finally:
        await conn.close()
    return {r["provider_event_id"] for r in rows}


def wait_for(probe, expected: int, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(1)


@pytest.mark.parametrize("examples", [
    pytest.param(120, id="short"),
    pytest.param(1500, id="long", marks=[pytest.mark.faults, pytest.mark.timeout(900)]),
])
def test_gateway_fuzz_never_answers_500(pipeline, kafka_bootstrap, examples):
    secret = demo_environment()["STRIPE_WEBHOOK_SECRET"]
    run = f"{int(time.time() * 1000) % 10**9}"
    pids = worker_pids()
    dlq_start = asyncio.run(dlq_end_offset(kafka_bootstrap))
    statuses: Counter[str] = Counter()
    server_errors: Counter[int] = Counter()  # counted before the assertion that refuses them
    accepted: list[str] = []
    dead_lettered: list[str] = []
    serial = iter(range(10**9))
    client = httpx.Client(base_url=GATEWAY, timeout=15)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(request=requests_)
    def probe(request: dict) -> None:
        body, event_id = request["body"], None
        if isinstance(body, tuple):
            event = dict(body[1])
            if event["id"] == UNIQUE:
                event_id = event["id"] = f"evt_fuzz{run}_{next(serial)}"
            body = dumps(event)
        headers = {}
        if request["content_type"] is not None:
            headers["Content-Type"] = request["content_type"]
        signature = signature_for(request["signature"], body, secret, request["garbage"])
        if signature is not None:
            headers["Stripe-Signature"] = signature
        resp = client.request(request["method"], request["path"], content=body, headers=headers)
        answer = resp.json()  # every answer, refusals included, is JSON
        reason = answer.get("reason") or answer.get("status")
        statuses[f"{resp.status_code} {reason}"] += 1
        if resp.status_code >= 500:
            server_errors[resp.status_code] += 1
        assert resp.status_code < 500 or resp.status_code == 503, (resp.status_code, answer)
        assert reason != "internal_error", answer
        if resp.status_code >= 400:
            assert answer.get("reason") and answer.get("detail"), answer
        elif request["path"].startswith("/webhooks/") and resp.status_code < 300:
            if answer["status"] == "accepted":
                assert event_id, f"an event without a fresh id was accepted: {body[:200]!r}"
                accepted.append(event_id)
            else:
                dead_lettered.append(body.decode())

    try:
        probe()
    finally:
        client.close()
        # Written even when an assertion failed, so the report shows what happened.
        write_report(f"http_{examples}_statuses", {
            "examples": sum(statuses.values()),
            "server_errors_503": server_errors[503],
            "server_errors_other_than_503": sum(n for code, n in server_errors.items()
                                                if code != 503),
        })
    # An accepted fuzz event is a real (if odd) event: it ends in a table like any other;
    # a dead-lettered one is in webhooks.dlq with its original body.
    downstream = wait_for(lambda: asyncio.run(stored_ids(accepted)), len(accepted), 90)
    in_dlq = asyncio.run(read_dlq_bodies(kafka_bootstrap, dlq_start))
    missing_dlq = [b for b in dead_lettered if b not in in_dlq]
    content = {
        "examples": sum(statuses.values()), "by_status_and_reason": dict(statuses.most_common()),
        "server_errors_503": server_errors[503],
        "server_errors_other_than_503": sum(n for code, n in server_errors.items() if code != 503),
        "accepted": len(accepted),
        "accepted_stored_downstream": len(downstream), "dead_lettered": len(dead_lettered),
        "dead_lettered_in_webhooks_dlq": len(dead_lettered) - len(missing_dlq),
        "worker_pids_unchanged": worker_pids() == pids, "ready": all_ready(),
    }
    write_report(f"http_{examples}", content)
    assert set(accepted) == downstream
    assert not missing_dlq
    assert content["worker_pids_unchanged"], (pids, worker_pids())
    assert all(content["ready"].values()), content["ready"]


def poison_values(tag: str) -> list[tuple[bytes | None, bytes]]:
    """(key, value) pairs no worker can make sense of."""
    nested = b"[" * 3000 + b"]" * 3000
    return [
        (b"poison", b"\xff\xfe\x00 not utf-8 " + tag.encode()),
        (None, b""),
        (b"poison", b"null"),
        (None, b"[1, 2, 3]"),
        (b"poison", b'{"id": 42, "type": ["not", "a", "string"], "tag": "' + tag.encode() + b'"}'),
        (b"poison", b'{"truncated": '),
        (None, nested),
        (b"poison", orjson.dumps({"event_id": 7, "payload": "x" * 100_000, "tag": tag})),
    ]


async def write_poison(bootstrap: str, tag: str) -> list[tuple[str, int, int]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all",
                                max_request_size=2 * 1024 * 1024)
    await producer.start()
    coordinates = []
    try:
        for topic in CONSUMED_TOPICS:
            for n, (key, value) in enumerate(poison_values(tag)):
                # A key is a provider event id (Square has two topics): two records under one
                # key are one event and rightly share a quarantine row, so each gets its own.
                key = None if key is None else key + f"-{topic}-{tag}-{n}".encode()
                meta = await producer.send_and_wait(topic, value, key=key)
                coordinates.append((topic, meta.partition, meta.offset))
    finally:
        await producer.stop()
    return coordinates


async def quarantined_at(coordinates: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
    conn = await asyncpg.connect(admin_dsn())
    try:
        rows = await conn.fetch(
            "SELECT source_topic, source_partition, source_offset "
            "FROM payment_events_quarantine q JOIN unnest($1::text[], $2::int[], $3::bigint[]) "
            "AS c(t, p, o) ON q.source_topic = c.t AND q.source_partition = c.p "
            "AND q.source_offset = c.o",
            [c[0] for c in coordinates], [c[1] for c in coordinates],
            [c[2] for c in coordinates])
    finally:
        await conn.close()
    return {(r["source_topic"], r["source_partition"], r["source_offset"]) for r in rows}


def test_poison_on_every_consumed_topic_is_quarantined(pipeline, kafka_bootstrap):
    wait_for_quiet_pipeline()
    pids = worker_pids()
    before = normalizer_counters()
    tag = f"poison{time.time_ns()}"
    coordinates = asyncio.run(write_poison(kafka_bootstrap, tag))
    found = wait_for(lambda: asyncio.run(quarantined_at(coordinates)), len(coordinates), 120)
    after = normalizer_counters()
    per_topic = Counter(c[0] for c in coordinates)
    quarantined = Counter(c[0] for c in found)
    content = {
        "messages": len(coordinates), "topics": len(CONSUMED_TOPICS),
        "sent_by_topic": dict(per_topic), "quarantined_by_topic": dict(quarantined),
        "quarantined": len(found), "missing": sorted(set(coordinates) - found)[:20],
        "normalizer_dead_lettered_delta":
            after.get("dead_lettered", 0) - before.get("dead_lettered", 0),
        "worker_pids_unchanged": worker_pids() == pids, "ready": all_ready(),
        "starter_ready": http_ok("http://127.0.0.1:6067/ready"),
    }
    write_report("kafka_poison", content)
    assert found == set(coordinates), content["missing"]
    raw_poison = sum(per_topic[t] for t in RAW_TOPICS)
    assert content["normalizer_dead_lettered_delta"] >= raw_poison
    assert content["worker_pids_unchanged"], (pids, worker_pids())
    assert all(content["ready"].values()), content["ready"]
