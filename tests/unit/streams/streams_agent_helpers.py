"""Driving the normalizer agents in test_context(), which work their events in batches."""

from __future__ import annotations

import asyncio


def settled_count() -> int:
    """Events the normalizer agents have finished (output acked, or dropped as duplicate)."""
    from streams import normalizer

    return sum(tally.get(outcome, 0) for tally in normalizer.counters.snapshot().values()
               for outcome in ("normalized", "deduplicated", "dead_lettered"))


async def put_all(agent, records: list[tuple[bytes | None, bytes]], partition: int = 1) -> None:
    """Put records through an agent and wait until its batches are done with all of them."""
    before = settled_count()
    async with agent.test_context() as ctx:
        for key, value in records:
            await ctx.put(value, key=key, partition=partition)
        # put() returns once a record is buffered; the batch is worked after its window.
        async with asyncio.timeout(10):
            while settled_count() - before < len(records):  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.005)


def starter_event(message):
    """An event as the starter's agents receive it: the message, and its value as the topic's
    schema decodes it (a Record, or the dead letter of a value that is not one)."""
    from types import SimpleNamespace

    from streams import starter

    topic = {starter.settings.TOPIC_NORMALIZED: starter.normalized_topic,
             starter.settings.TOPIC_VALIDATION_DLQ: starter.dlq_topic}.get(message.topic)
    value = topic.schema.loads_value(starter.app, message) if topic else message.value
    return SimpleNamespace(message=message, value=value)
