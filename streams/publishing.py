"""Produce and wait for the broker's ack, retrying until it comes: an offset may only move after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)
T = TypeVar("T")


def next_backoff(previous: float, cap: float) -> float:
    return min(cap, max(0.1, previous * 2))


async def retry_forever(
    attempt: Callable[[], Awaitable[T]],
    *,
    retryable: tuple[type[BaseException], ...],
    what: str,
    cap_seconds: float = 30.0,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Await attempt() until it succeeds; each failure waits a capped exponential backoff.

    Giving up would mean acking an event whose output does not exist, so this never does;
    a worker stuck here shows up as lag and in the logs, not as a lost payment.
    """
    delay = 0.0
    while True:
        try:
            return await attempt()
        except retryable as exc:
            delay = next_backoff(delay, cap_seconds)
            log.warning("%s failed (%r); retrying in %.1fs", what, exc, delay)
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(delay)


async def send_confirmed(topic, *, key: str, value, on_retry=None) -> None:
    """topic.send() only queues; awaiting the returned future waits for the broker's ack."""

    async def attempt():
        pending = await topic.send(key=key, value=value)
        return await pending

    await retry_forever(attempt, retryable=(KafkaError,), what=f"produce to {topic}",
                        on_retry=on_retry)
