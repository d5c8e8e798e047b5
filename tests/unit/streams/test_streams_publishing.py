"""Retrying until the output is confirmed: transient errors retried, permanent ones returned."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import (
    InvalidTopicError,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
)
from faust.exceptions import ProducerSendError

from streams import publishing


async def test_retry_forever_retries_until_success(monkeypatch):
    sleeps: list[float] = []

    async def fake_sleep(delay):
        sleeps.append(delay)

    monkeypatch.setattr(publishing.asyncio, "sleep", fake_sleep)
    attempts = iter([ConnectionError(), ConnectionError(), ConnectionError(), "done"])

    async def attempt():
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    retried = []
    result = await publishing.retry_forever(attempt, retryable=(ConnectionError,), what="x",
                                            cap_seconds=0.3, on_retry=lambda: retried.append(1))
    assert result == "done"
    assert sleeps == [0.1, 0.2, 0.3] and len(retried) == 3


async def test_non_retryable_errors_propagate():
    async def attempt():
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await publishing.retry_forever(attempt, retryable=(ConnectionError,), what="x")


class FakeProducer:
    """Queues sends; the outcomes of each round's delivery futures are scripted per key."""

    def __init__(self, outcomes: dict[str, list[object]]) -> None:
        self.outcomes = outcomes
        self.queued: list[str] = []

    def send(self, key: str):
        async def queue():
            self.queued.append(key)
            outcome = self.outcomes[key].pop(0)
            if isinstance(outcome, ProducerSendError):
                raise outcome  # raised while queueing, as faust's producer does
            future = asyncio.get_running_loop().create_future()
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
            return future

        return queue


@pytest.fixture
def no_sleep(monkeypatch):
    async def fake_sleep(delay):
        pass

    monkeypatch.setattr(publishing.asyncio, "sleep", fake_sleep)


async def test_send_all_queues_everything_then_resends_only_the_failures(no_sleep):
    producer = FakeProducer({"a": ["meta-a"], "b": [KafkaConnectionError(), "meta-b"],
                             "c": [ProducerSendError("queue"), "meta-c"]})
    retried = []
    results = await publishing.send_all_confirmed(
        [producer.send(k) for k in "abc"], on_retry=lambda: retried.append(1))
    assert results == ["meta-a", "meta-b", "meta-c"]  # in the order of the sends
    assert producer.queued == ["a", "b", "c", "b", "c"] and retried == [1]


async def test_send_all_surfaces_errors_that_are_not_the_brokers(no_sleep):
    producer = FakeProducer({"a": ["meta-a"], "b": [ValueError("bug")]})
    with pytest.raises(ValueError):
        await publishing.send_all_confirmed([producer.send("a"), producer.send("b")])


async def test_send_all_of_nothing_sends_nothing():
    assert await publishing.send_all_confirmed([]) == []


@pytest.mark.parametrize(("error", "reason"), [
    (KafkaConnectionError(), None),
    (KafkaTimeoutError(), None),  # aiokafka leaves it unmarked; still what an outage looks like
    (NotLeaderForPartitionError(), None),
    (MessageSizeTooLargeError(), "output.too_large"),
    (RecordTooLargeError(), "output.too_large"),
    (InvalidTopicError(), "output.invalid_topic"),
    (TopicAuthorizationFailedError(), "output.refused"),
    (ProducerSendError("no cause"), None),
])
def test_producer_errors_are_classified(error, reason):
    assert publishing.classify_send_error(error) == reason


def test_a_wrapped_error_is_classified_by_its_cause():
    wrapped = ProducerSendError("Error while sending")
    wrapped.__cause__ = MessageSizeTooLargeError()
    assert publishing.classify_send_error(wrapped) == "output.too_large"


async def test_a_permanent_error_is_returned_not_retried(no_sleep):
    producer = FakeProducer({"a": ["meta-a"], "b": [MessageSizeTooLargeError(), "never"],
                             "c": [KafkaConnectionError(), "meta-c"]})
    results = await publishing.send_all_confirmed([producer.send(k) for k in "abc"])
    assert results[0] == "meta-a" and results[2] == "meta-c"
    assert isinstance(results[1], publishing.RefusedSend)
    assert results[1].reason == "output.too_large"
    assert producer.queued == ["a", "b", "c", "c"]
    assert publishing.refused(results) == [(1, results[1])]
