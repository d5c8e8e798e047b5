"""A payment's current state, folded from its events in any order: the ``payments`` row.

``apply(state, event)`` is a join: commutative, associative and idempotent. The state is the
set of its events seen through ``contracts.lifecycle``:

- the status is the one of the event with the greatest (rank, provider time, event_id);
- the amount and currency are those of the greatest payment event (a refund's or dispute's
  amount is not the payment's), or, before any, the currency of the greatest other event;
- the last event is the greatest by (provider time, event_id), never the last to arrive;
- each refund and dispute is one entry (``entry_key``) holding its greatest step, and the
  totals are sums over entries, so a duplicate adds nothing and order changes nothing.

Every value comes from a maximum over a key that ends in the unique event_id, so no two
events tie. Two *different* events under one event_id are the one thing the join cannot
order; the store refuses those before they get here (EventConflictError).
Pure: no I/O. ``to_json``/``from_json`` carry the lattice through the row's merge_state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.events import PaymentEvent
from contracts.lifecycle import Effect, PaymentStatus, entry_counts, entry_key, transition

__all__ = ["Entry", "PaymentState", "apply", "from_json", "join", "of_event", "to_json"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One refund or dispute, as its greatest step so far says."""

    key: str
    step: int
    at: datetime
    event_id: str
    amount: int
    counts: bool

    @property
    def order(self) -> tuple[int, datetime, str]:
        return (self.step, self.at, self.event_id)


@dataclass(frozen=True, slots=True)
class PaymentState:
    provider: str
    payment_id: str
    status: str
    currency: str
    amount: int | None  # None until a payment event (not a refund or dispute) names it
    amount_captured: int
    amount_refunded: int
    amount_disputed: int
    last_event_id: str
    last_event_at: datetime
    # The lattice behind the columns above (the row's merge_state).
    status_order: tuple[int, datetime, str]  # (rank, provider time, event_id)
    amount_order: tuple[int, int, datetime, str]  # (is a payment event, rank, time, event_id)
    refunds: tuple[Entry, ...] = ()  # by key
    disputes: tuple[Entry, ...] = ()


def _utc(moment: datetime) -> datetime:
    # A naive time is flagged by validation yet stored; read it as UTC so it still compares.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _settle(provider: str, payment_id: str, status: str,
            status_order: tuple[int, datetime, str], amount: int | None, currency: str,
            amount_order: tuple[int, int, datetime, str], last_event_id: str,
            last_event_at: datetime, refunds: tuple[Entry, ...],
            disputes: tuple[Entry, ...]) -> PaymentState:
    """The state of a lattice point, its totals derived from it."""
    captured = (amount or 0) if status == PaymentStatus.SUCCEEDED else 0
    return PaymentState(
        provider, payment_id, status, currency, amount, captured,
        sum(e.amount for e in refunds if e.counts), sum(e.amount for e in disputes if e.counts),
        last_event_id, last_event_at, status_order, amount_order, refunds, disputes,
    )


def of_event(event: PaymentEvent) -> PaymentState:
    """The state of a payment that has seen only this event."""
    if not event.payment_id:
        raise ValueError(f"{event.event_id}: an event without a payment_id has no payment")
    step = transition(event.provider, event.event_type)
    at = _utc(event.provider_created_at)
    is_payment = step.effect is Effect.PAYMENT
    entries: dict[Effect, tuple[Entry, ...]] = {Effect.REFUND: (), Effect.DISPUTE: ()}
    if not is_payment:
        entries[step.effect] = (Entry(entry_key(step.effect, event), step.step, at,
                                      event.event_id, event.amount_cents,
                                      entry_counts(step, event)),)
    return _settle(
        event.provider, event.payment_id, step.status.value, (step.rank, at, event.event_id),
        event.amount_cents if is_payment else None, event.currency,
        (int(is_payment), step.rank, at, event.event_id), event.event_id, at,
        entries[Effect.REFUND], entries[Effect.DISPUTE],
    )


def _merge_entries(a: tuple[Entry, ...], b: tuple[Entry, ...]) -> tuple[Entry, ...]:
    merged = {e.key: e for e in a}
    for entry in b:
        if entry.key not in merged or entry.order > merged[entry.key].order:
            merged[entry.key] = entry
    return tuple(merged[key] for key in sorted(merged))


def join(a: PaymentState, b: PaymentState) -> PaymentState:
    """The state that has seen the events of both: the least upper bound."""
    if (a.provider, a.payment_id) != (b.provider, b.payment_id):
        raise ValueError(f"{a.provider}:{a.payment_id} and {b.provider}:{b.payment_id} "
                         "are different payments")
    status = b if b.status_order > a.status_order else a
    amount = b if b.amount_order > a.amount_order else a
    last = b if (b.last_event_at, b.last_event_id) > (a.last_event_at, a.last_event_id) else a
    return _settle(
        a.provider, a.payment_id, status.status, status.status_order, amount.amount,
        amount.currency, amount.amount_order, last.last_event_id, last.last_event_at,
        _merge_entries(a.refunds, b.refunds), _merge_entries(a.disputes, b.disputes),
    )


def apply(state: PaymentState | None, event: PaymentEvent) -> PaymentState:
    """The state after ``event``, whatever order the events come in and however often."""
    single = of_event(event)
    return single if state is None else join(state, single)


def _entry_json(entry: Entry) -> list[Any]:
    return [entry.key, entry.step, entry.at.isoformat(), entry.event_id, entry.amount,
            entry.counts]


def _entry(item: list[Any]) -> Entry:
    key, step, at, event_id, amount, counts = item
    return Entry(key, step, datetime.fromisoformat(at), event_id, amount, counts)


def to_json(state: PaymentState) -> dict[str, Any]:
    """The lattice, as the payments row's merge_state keeps it (the columns derive from it)."""
    rank, status_at, status_id = state.status_order
    flow, amount_rank, amount_at, amount_id = state.amount_order
    return {
        "status": [state.status, rank, status_at.isoformat(), status_id],
        "amount": [state.amount, state.currency, flow, amount_rank, amount_at.isoformat(),
                   amount_id],
        "last": [state.last_event_at.isoformat(), state.last_event_id],
        "refunds": [_entry_json(e) for e in state.refunds],
        "disputes": [_entry_json(e) for e in state.disputes],
    }


def from_json(provider: str, payment_id: str, data: dict[str, Any]) -> PaymentState:
    status, rank, status_at, status_id = data["status"]
    amount, currency, flow, amount_rank, amount_at, amount_id = data["amount"]
    last_at, last_id = data["last"]
    return _settle(
        provider, payment_id, status, (rank, datetime.fromisoformat(status_at), status_id),
        amount, currency, (flow, amount_rank, datetime.fromisoformat(amount_at), amount_id),
        last_id, datetime.fromisoformat(last_at),
        tuple(_entry(e) for e in data["refunds"]), tuple(_entry(e) for e in data["disputes"]),
    )
