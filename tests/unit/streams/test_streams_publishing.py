"""Retrying until the output is confirmed: never give up, never retry what isn't retryable."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaConnectionError
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
