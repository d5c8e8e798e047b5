"""Two normalizer workers share the dedup table: a key is read through either worker, and the
one that does not hold it forwards the request to the one that does."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.streams.test_normalizer_worker import send_all

pytestmark = pytest.mark.timeout(280)


async def lookup_everywhere(workers, keys: list[str], within: float = 90) -> dict:
    """Each key through each worker, until all answer 200 (routes settle after a rebalance)."""
    deadline = time.monotonic() + within
    answers: dict = {}
    while time.monotonic() < deadline:
        answers = {(w.port, k): await w.get(f"/dedup/stripe/{k}") for w in workers for k in keys}
        if all(r.status_code == 200 for r in answers.values()):
            return answers
        await asyncio.sleep(1)
    bad = {key: (r.status_code, r.text[:200]) for key, r in answers.items() if r.status_code != 200}
    raise AssertionError(f"lookups that did not answer 200: {bad}")


async def test_each_key_reads_through_either_worker(pipeline_topics, start_worker, producer,
                                                     read_all, raw_event, unique, tmp_path):
    app_id = f"test-views-{unique}"
    # Same app (one consumer group), distinct web ports (start_worker) and data dirs.
    first = await start_worker("streams.normalizer", app_id,
                               {"STREAMS_DATA_DIR": str(tmp_path / "faust-a")})
    second = await start_worker("streams.normalizer", app_id,
                                {"STREAMS_DATA_DIR": str(tmp_path / "faust-b")})
    await first.wait_ready()  # again: the second worker's join moved partitions

    keys = [f"evt_{unique}_{i}" for i in range(24)]  # enough to land on all 3 partitions
    await send_all(producer, [(pipeline_topics.charge, *raw_event("charge.succeeded", k))
                              for k in keys])
    await read_all(pipeline_topics.normalized, expect=len(keys))

    # Each worker holds only its partitions' entries, and between them all of them.
    sizes = [(await w.get("/dedup/size")).json()["size"] for w in (first, second)]
    assert sum(sizes) == len(keys) and all(sizes), sizes

    answers = await lookup_everywhere([first, second], keys)
    for (port, key), response in answers.items():
        body = response.json()
        assert body["event_id"] == f"stripe:{key}" and body["seen"] is True, (port, body)
    # The same entry (same first-seen time) whichever worker was asked.
    for key in keys:
        assert answers[(first.port, key)].json() == answers[(second.port, key)].json()

    missing = await first.get(f"/dedup/stripe/evt_{unique}_never")
    assert missing.status_code == 404 and missing.json()["seen"] is False
