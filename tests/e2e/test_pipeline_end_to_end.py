"""N webhooks, with duplicates, invalid events and poison messages, become exactly the
expected rows in payment_events, payment_events_quarantine and Iceberg."""

import asyncio
import os
import time

from aiokafka import AIOKafkaProducer

from contracts.topics import STRIPE_RAW_TOPICS
from contracts.workflows import PAYMENT_BATCH, PAYMENT_EVENT
from infra.demo import (
    collect_counts,
    normalizer_counters,
    rows_by_writer,
    run_batch_load,
    run_simulator,
    wait_for_pipeline,
)
from infra.reconcile import reconcile
from tests.kafka_clients import kafka_kwargs

POISON = [b"\xff\xfe not utf-8", b"[1, 2, 3]", b'{"id": 42, "type": ["not", "a", "string"]}']


async def write_poison(bootstrap: str, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        for topic in STRIPE_RAW_TOPICS:
            for n, value in enumerate(POISON):
                # One key per record, under this run's prefix: records under one key are one
                # event (a provider's retry), so an unreadable body is quarantined once per
                # key, under that key (issue 14), and the run's count finds it by prefix.
                key = f"{prefix}poison-{topic}-{n}".encode()
                await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def test_every_accepted_webhook_lands_exactly_once(pipeline, kafka_bootstrap):
    seed = int(time.time() * 1000) % 10**9
    prefix = f"evt_sim{seed}_"
    before = normalizer_counters()
    started = time.time()

    asyncio.run(write_poison(kafka_bootstrap, prefix))
    sim = run_simulator(rate=20, duration=6, seed=seed)
    poison = len(POISON) * len(STRIPE_RAW_TOPICS)
    expected = sim["valid"] + sim["invalid"] - sim["rejected"] + poison
    pg_rows, quarantined = wait_for_pipeline(prefix, started, expected, timeout=240)
    after = normalizer_counters()
    run_batch_load()

    counts = collect_counts(sim, before, after, prefix, pg_rows, quarantined,
                            extra_invalid=poison)
    # The poison went straight to Kafka, so the gateway never answered for it.
    result = reconcile(counts)
    problems = [p for p in result.problems if not p.startswith("sent ")]
    assert not problems, result.report
    assert result.report["lost"] == 0 and result.report["doubled"] == 0
    assert counts.pg_rows == sim["valid"]
    assert counts.quarantine_rows == sim["invalid"] - sim["rejected"] + poison
    assert counts.deduplicated >= sim["duplicates"]
    assert counts.iceberg_rows == counts.pg_rows
    # `make test` runs this test again with the starter in the batched mode (issue 19).
    writers = {w.split(":", 1)[0] for w in asyncio.run(rows_by_writer(prefix))}
    batched = int(os.environ.get("STREAMS_STARTER_BATCH_SIZE", "1")) > 1
    if batched:  # some payments may still go alone (one too large for a batch)
        assert PAYMENT_BATCH.id_prefix in writers, writers
    else:
        assert writers == {PAYMENT_EVENT.id_prefix}, writers
