"""Produce and wait for the broker's acks: offsets move only after every output is written.

Producer errors are classified. A transient one (the broker away, a leader moving, a
timeout) is retried with capped backoff for as long as it lasts. A permanent one says this
record can never be written (too large, an invalid topic, a refusal Kafka marks as not
retriable): it is not retried; the send's result says why, so the caller can write a dead
letter in its place and move on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.errors import (
    BrokerNotAvailableError,
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
    ReplicaNotAvailableError,
)
from faust.exceptions import ProducerSendError
from faust.types import EventT, StreamT

log = logging.getLogger(__name__)
T = TypeVar("T")
# faust's producer wraps a KafkaError raised while queueing in its own ProducerSendError.
RETRYABLE = (KafkaError, ProducerSendError)
# Refusals of the record itself, with the reason its dead letter carries.
REFUSED_RECORD: tuple[tuple[type[KafkaError], str], ...] = (
    (MessageSizeTooLargeError, "output.too_large"),
    (RecordTooLargeError, "output.too_large"),
    (RecordListTooLargeError, "output.too_large"),
    (InvalidTopicError, "output.invalid_topic"),
)
# aiokafka leaves these unmarked (retriable=False), yet each is what an absent or moving
# broker looks like from a producer, or a producer stopping: never a reason to give up on
# a payment.
TRANSIENT_UNMARKED = (KafkaTimeoutError, BrokerNotAvailableError, ReplicaNotAvailableError,
                      KafkaUnavailableError, ProducerClosed)


@dataclass(frozen=True, slots=True)
class RefusedSend:
    """The result of a send the broker (or the producer) will never accept."""

    reason: str  # e.g. "output.too_large", the code of the dead letter written instead
    error: BaseException


def classify_send_error(exc: BaseException) -> str | None:
    """None for a transient error (retry it), else the reason a permanent one is refused."""
    cause = exc.__cause__ if isinstance(exc, ProducerSendError) else exc
    if not isinstance(cause, KafkaError):
        return None  # faust's own send error with no Kafka cause: as before, retried
    for kind, reason in REFUSED_RECORD:
        if isinstance(cause, kind):
            return reason
    if cause.retriable or isinstance(cause, TRANSIENT_UNMARKED):
        return None
    return "output.refused"


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


Send = Callable[[], Awaitable[Awaitable[Any]]]


async def send_all_confirmed(sends: Sequence[Send], *, on_retry=None) -> list[Any]:
    """Queue every message before awaiting any ack; a retry resends only the failed ones.

    Each send queues one message (e.g. ``partial(topic.send, key=k, value=v)``) and returns
    its delivery future. Awaiting the acks together lets one produce request carry a batch
    instead of one round trip per message. Returns, in the order of `sends`, each one's
    delivery result, or a RefusedSend for one that failed permanently (never retried);
    transient failures are retried until they succeed or turn out permanent.
    """
    results: list[Any] = [None] * len(sends)
    pending = list(range(len(sends)))

    async def attempt() -> None:
        nonlocal pending
        pending, error = await _send_round(sends, pending, results)
        if error is not None:
            raise error

    if pending:
        await retry_forever(attempt, retryable=RETRYABLE,
                            what=f"produce of {len(sends)} messages", on_retry=on_retry)
    return results


def refused(results: Sequence[Any]) -> list[tuple[int, RefusedSend]]:
    """The sends of a send_all_confirmed() call that were refused for good, by index."""
    return [(i, r) for i, r in enumerate(results) if isinstance(r, RefusedSend)]


async def _send_round(sends: Sequence[Send], indexes: list[int],
                      results: list[Any]) -> tuple[list[int], BaseException | None]:
    """The indexes still unacked after one round, and the first transient error seen."""
    failed: list[int] = []
    error: BaseException | None = None

    def fail(index: int, exc: BaseException) -> None:
        nonlocal error
        reason = classify_send_error(exc)
        if reason is None:
            failed.append(index)
            error = error or exc
        else:
            log.error("produce refused for good (%s): %r", reason, exc)
            results[index] = RefusedSend(reason, exc)

    queued = []
    for index in indexes:
        try:
            queued.append((index, await sends[index]()))
        except RETRYABLE as exc:
            fail(index, exc)
    outcomes = await asyncio.gather(*(future for _, future in queued), return_exceptions=True)
    for (index, _), outcome in zip(queued, outcomes, strict=True):
        if isinstance(outcome, RETRYABLE):
            fail(index, outcome)
        elif isinstance(outcome, BaseException):
            raise outcome  # a bug or a cancellation, not the broker: let it surface
        else:
            results[index] = outcome
    return sorted(failed), error  # resent in their original order


async def work_in_batches(stream: StreamT, handle: Callable[[list[EventT]], Awaitable[None]],
                          max_events: int, within_seconds: float) -> None:
    """Hand each batch of events to ``handle``; ack them only once it has returned.

    Manual acks: faust acks an event in a `finally` even when the body raised or was
    cancelled (take_events() too), which would let its offset be committed without an
    output. noack_take() never acks; these acks run only once the batch's outputs are.
    """
    manual = stream.noack()
    async for events in manual.noack_take(max_events, within=within_seconds):
        await handle(events)
        for event in events:
            await manual.ack(event)
