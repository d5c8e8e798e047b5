"""Retrying until the output is confirmed: never give up, never retry what isn't retryable."""

from __future__ import annotations

import pytest

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
