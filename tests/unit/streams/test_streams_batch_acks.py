"""work_in_batches (streams/publishing.py): a batch's events are acked only after its handler
returned and, when the handler hands back an awaitable (the normalizer's changelog ack),
after that resolved; a bounded number of batches wait, and a failure stops the agent."""

from __future__ import annotations

import asyncio

import pytest

from streams.publishing import work_in_batches


class Stream:
    """faust's stream as far as work_in_batches uses it: batches in, acks out."""

    def __init__(self, batches: list[list[str]], open_after: bool = False) -> None:
        self.batches, self.acked = batches, []
        self.taken, self.open_after = 0, open_after  # open: waits for more, as faust's does

    def noack(self) -> Stream:
        return self

    async def noack_take(self, max_: int, within: float):
        for batch in self.batches:
            self.taken += 1
            yield batch
        if self.open_after:
            await asyncio.get_running_loop().create_future()

    async def ack(self, event: str) -> None:
        self.acked.append(event)


async def test_events_are_acked_once_the_handler_returns_when_it_hands_back_nothing():
    stream = Stream([["a", "b"], ["c"]])
    seen: list[list[str]] = []

    async def handle(events):
        assert stream.acked == [e for batch in seen for e in batch]  # earlier batches only
        seen.append(events)

    await work_in_batches(stream, handle, 10, 0.01)
    assert stream.acked == ["a", "b", "c"]


async def test_a_batch_is_acked_only_when_what_it_handed_back_resolves():
    stream = Stream([["a"], ["b"], ["c"]], open_after=True)
    settles = {name: asyncio.get_running_loop().create_future() for name in "abc"}

    async def handle(events):
        return settles[events[0]]

    worker = asyncio.create_task(work_in_batches(stream, handle, 10, 0.01))
    await asyncio.sleep(0.01)
    assert stream.taken == 3 and stream.acked == []  # the next batches were not held up
    settles["a"].set_result(None)
    await asyncio.sleep(0.01)
    assert stream.acked == ["a"]
    settles["c"].set_result(None)
    await asyncio.sleep(0.01)
    assert stream.acked == ["a"]  # in order: c waits for b
    settles["b"].set_result(None)
    await asyncio.sleep(0.01)
    assert stream.acked == ["a", "b", "c"]
    worker.cancel()


async def test_at_most_the_bound_of_batches_wait_unsettled():
    stream = Stream([[str(i)] for i in range(10)], open_after=True)
    never = asyncio.get_running_loop().create_future()

    async def handle(events):
        return never

    worker = asyncio.create_task(work_in_batches(stream, handle, 10, 0.01, unsettled_batches=2))
    await asyncio.sleep(0.05)
    # Two queued, one taken by the acker and waiting, one handled and waiting for room.
    assert stream.taken == 4 and stream.acked == []
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    assert stream.acked == []  # stopping acks nothing that did not settle


async def test_a_batch_that_cannot_settle_stops_the_agent_with_its_error():
    stream = Stream([[str(i)] for i in range(10)])
    broken = asyncio.get_running_loop().create_future()
    broken.set_exception(RuntimeError("a bug in the changelog write"))

    async def handle(events):
        return broken

    with pytest.raises(RuntimeError, match="a bug in the changelog write"):
        await asyncio.wait_for(work_in_batches(stream, handle, 10, 0.01,
                                               unsettled_batches=1), 5)
    assert stream.acked == []
