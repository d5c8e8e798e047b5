"""Pure reconciliation: which listed events the pipeline lacks, and the raw record for each.

No I/O here. The runner (``runner.py``) lists, asks which ids the pipeline holds, and feeds
what ``compare`` calls missing as the records ``raw_record`` builds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from contracts.limits import MAX_KEY_BYTES, MAX_VALUE_BYTES
from contracts.providers import ORIGIN_HEADER, Origin, Provider, raw_headers, stripe_raw_topic
from orchestration.reconciliation.events import ProviderEvent, Window

__all__ = ["RAW_TOPIC_ROUTES", "Comparison", "RawRecord", "classify", "compare", "raw_record",
           "reconciliation_request_id"]

# Each reconcilable provider's event type -> raw topic, the contract's routing (the gateway's
# own): a type without a route is one the pipeline never takes from a webhook either.
RAW_TOPIC_ROUTES: dict[str, Callable[[str], str | None]] = {
    Provider.STRIPE.value: stripe_raw_topic,
}

REQUEST_ID_PREFIX = "reconciliation-"


@dataclass(slots=True)
class Comparison:
    """One batch of listed events, sorted by what reconciliation does with each."""

    missing: list[ProviderEvent] = field(default_factory=list)  # to feed
    held: list[ProviderEvent] = field(default_factory=list)  # a row exists: nothing to do
    # The pipeline has no raw topic for its type (a webhook of it would be dead-lettered
    # by the gateway): an event the endpoint is not for, never "missing".
    unroutable: list[ProviderEvent] = field(default_factory=list)
    # Listed although outside the window asked for: never fed (stripe-mock ignores the
    # window; the real API honours it, and this keeps a run to what it was asked).
    outside_window: list[ProviderEvent] = field(default_factory=list)
    # Too large for a raw record: the gateway would have answered 413. Reported, not fed.
    too_large: list[ProviderEvent] = field(default_factory=list)

    def candidates(self) -> list[ProviderEvent]:
        """Events whose holding must be asked about: in the window and routable."""
        return self.missing + self.held


def classify(events: Iterable[ProviderEvent], window: Window) -> Comparison:
    """Sort a batch before the pipeline is asked; candidates land in ``missing`` for now."""
    out = Comparison()
    route = RAW_TOPIC_ROUTES
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:  # a page boundary that moved: one event, listed twice
            continue
        seen.add(event.event_id)
        if not window.holds(event.created):
            out.outside_window.append(event)
        elif event.provider not in route or route[event.provider](event.event_type) is None:
            out.unroutable.append(event)
        elif (len(event.body) > MAX_VALUE_BYTES
              or len(event.event_id.encode()) > MAX_KEY_BYTES):
            out.too_large.append(event)
        else:
            out.missing.append(event)
    return out


def compare(events: Iterable[ProviderEvent], window: Window,
            held_ids: Collection[str]) -> Comparison:
    """The batch sorted; ``held_ids`` are the provider event ids the pipeline holds."""
    out = classify(events, window)
    out.held = [e for e in out.missing if e.event_id in held_ids]
    out.missing = [e for e in out.missing if e.event_id not in held_ids]
    return out


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def reconciliation_request_id(run_id: str) -> str:
    """The request id of every record one run feeds: it says where the record came from."""
    return f"{REQUEST_ID_PREFIX}{run_id}"


def raw_record(event: ProviderEvent, received_at: str, request_id: str) -> RawRecord:
    """The record the gateway would have written for this event's webhook, plus the origin
    header. Keyed by the provider event id, so the normalizer dedups it like a webhook."""
    topic = RAW_TOPIC_ROUTES[event.provider](event.event_type)
    if topic is None:
        raise ValueError(f"{event.provider} event type {event.event_type!r} has no raw topic")
    headers = raw_headers(event.provider, event.event_type, received_at, request_id)
    headers.append((ORIGIN_HEADER, Origin.RECONCILIATION.value.encode()))
    return RawRecord(topic, event.event_id.encode(), event.body, headers)
