"""What the user typed, resolved: a payment and its events, or an event. Pure: decided from
PostgreSQL's answers (orchestration/trace.py asks the questions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.events import make_event_id
from contracts.providers import PROVIDER_NAMES
from contracts.workflows import PAYMENT_BATCH


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event to trace: its unified id, and its provider and raw key when known (a dead
    letter of an unreadable record has neither: its id is its source coordinates)."""

    event_id: str
    provider: str | None = None
    provider_event_id: str | None = None


def event_ref(provider: str, provider_event_id: str) -> EventRef:
    return EventRef(make_event_id(provider, provider_event_id), provider, provider_event_id)


def split_event_id(query: str) -> EventRef | None:
    """A unified event id (``<provider>:<provider event id>``) as a ref, else None."""
    provider, sep, rest = query.partition(":")
    return event_ref(provider, rest) if sep and rest and provider in PROVIDER_NAMES else None


def guess_providers(provider: str | None) -> tuple[str, ...]:
    """Whose raw topics may hold an id nothing in PostgreSQL names: the given provider, else
    every provider (one partition of each raw topic; no id format is assumed here, so a new
    provider needs no line)."""
    return (provider,) if provider else PROVIDER_NAMES


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the query names: a payment (its events) or an event (and its payment)."""

    kind: str  # "payment" or "event"
    refs: tuple[EventRef, ...]
    provider: str | None
    payment_id: str | None


def resolve(query: str, provider: str | None, named: Sequence[Mapping[str, Any]],
            payments: Sequence[Mapping[str, Any]],
            quarantined: Sequence[Mapping[str, Any]]) -> Resolution:
    """Decide from PostgreSQL's answers what ``query`` is.

    ``named`` are the payment_events rows whose event id, provider event id or payment id is
    the query; ``payments`` the payments rows of that payment id; ``quarantined`` the
    quarantine rows under it. A payment wins over an event of the same id; an id nothing
    names is taken as an event still in flight (or lost), searched on the raw topics.
    """
    of_payment = [row for row in named if row.get("payment_id") == query]
    if payments or of_payment:
        owner = provider or (payments or of_payment)[0]["provider"]
        refs = _unique(event_ref(r["provider"], r["provider_event_id"]) for r in of_payment
                       if r["provider"] == owner)
        return Resolution("payment", refs, owner, query)
    if named:
        first = named[0]
        refs = _unique(event_ref(r["provider"], r["provider_event_id"]) for r in named)
        return Resolution("event", refs, first["provider"], first.get("payment_id"))
    if quarantined:
        refs = _unique(event_ref(r["provider"], r["provider_event_id"])
                       if r.get("provider") and r.get("provider_event_id")
                       else EventRef(r["event_id"], r.get("provider")) for r in quarantined)
        return Resolution("event", refs, refs[0].provider, None)
    ref = split_event_id(query)
    refs = (ref,) if ref else tuple(event_ref(p, query) for p in guess_providers(provider))
    return Resolution("event", refs, refs[0].provider if len(refs) == 1 else provider, None)


def _unique(refs: Iterable[EventRef]) -> tuple[EventRef, ...]:
    return tuple(dict.fromkeys(refs))


def batch_keys(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys of the PaymentBatchWorkflows that wrote these payment_events rows (their
    ``workflow_id``, migration 017), each once; a row a PaymentEventWorkflow wrote, or one
    written before the column, names none."""
    prefix = f"{PAYMENT_BATCH.id_prefix}:"
    writers = (str(row.get("workflow_id") or "") for row in rows)
    return list(dict.fromkeys(w.removeprefix(prefix) for w in writers if w.startswith(prefix)))
