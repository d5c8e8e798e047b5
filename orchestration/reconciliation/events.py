"""What every provider's reconciliation source gives: its events over a time window.

A provider plugs in with one ``ProviderEventSource`` (its API client and the mapping of its
objects to ``ProviderEvent``) and its route in ``compare.RAW_TOPIC_ROUTES``; the comparison,
the feeding and the command stay the same for all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["ProviderEvent", "ProviderEventSource", "Window", "WindowError"]


class WindowError(ValueError):
    """The window cannot be reconciled (naive times, or since after until)."""


@dataclass(frozen=True, slots=True)
class Window:
    """A closed window of provider creation times, [since, until], in UTC."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise WindowError("--since and --until must carry a time zone (e.g. ...Z)")
        if self.since > self.until:
            raise WindowError(f"--since {self.since.isoformat()} is after "
                              f"--until {self.until.isoformat()}")

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment <= self.until


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One event as the provider's API lists it, with the raw topic's value for it.

    ``body`` is the value the gateway would have written for the same event's webhook (for
    Stripe, the event rendered as Stripe renders a webhook body; see ``stripe.py``).
    """

    provider: str
    event_id: str  # the provider event id, the raw topic's key (evt_... for Stripe)
    event_type: str  # the provider's own type (charge.succeeded), as the raw header holds it
    created: datetime  # the provider's clock, UTC
    body: bytes

    @staticmethod
    def created_at(unix_seconds: int) -> datetime:
        return datetime.fromtimestamp(unix_seconds, UTC)


class ProviderEventSource(Protocol):
    """A provider's API, listing its events created within a window (every page)."""

    provider: str

    def list_events(self, window: Window) -> AsyncIterator[ProviderEvent]: ...
