"""What `python -m orchestration.trace` found about a payment or event, stage by stage.

Pure: dataclasses for each stage's findings, the verdict on what the normalizer did, and the
resolution of what the user typed. The readers (orchestration/tracing/) fill these in and
orchestration/trace_render.py prints them. Every stage carries a ``Lookup`` saying whether
its source was searched and what came of it, so an outage of one source shows as
"unreachable (why)" in its own section and never hides the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from contracts.providers import ORIGIN_HEADER, RAW_HEADERS

FOUND, NOT_FOUND, UNREACHABLE = "found", "not found", "unreachable"
_WHY_MAX = 300


@dataclass(frozen=True, slots=True)
class Lookup:
    """The state of one stage's search: found, not found, or unreachable, with why."""

    state: str
    why: str | None = None

    @property
    def label(self) -> str:
        return f"{self.state} ({self.why})" if self.why else self.state


def found(why: str | None = None) -> Lookup:
    return Lookup(FOUND, why)


def not_found(why: str | None = None) -> Lookup:
    return Lookup(NOT_FOUND, why)


def unreachable(why: str) -> Lookup:
    """A source that could not be read; its error on one line, cut to a readable length."""
    line = " ".join(why.split())
    return Lookup(UNREACHABLE, line if len(line) <= _WHY_MAX else line[:_WHY_MAX - 1] + "…")


@dataclass(frozen=True, slots=True)
class KafkaCopy:
    """One record found on a topic: where it is and its headers (as text)."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime | None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def coordinates(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def origin(self) -> str:
        # A raw record without the origin header came from a webhook (contracts.providers).
        return self.headers.get(ORIGIN_HEADER, "webhook")


@dataclass(frozen=True, slots=True)
class Scan:
    """What part of one partition was read, and whether it was read to its end."""

    topic: str
    partition: int
    start_offset: int
    end_offset: int
    complete: bool  # False: the record bound or the timeout stopped it first

    @property
    def label(self) -> str:
        tail = "" if self.complete else ", stopped early (bound or timeout)"
        return (f"{self.topic}[{self.partition}] offsets {self.start_offset}.."
                f"{self.end_offset}{tail}")


@dataclass(frozen=True, slots=True)
class Receipt:
    """The gateway's receipt: every raw copy of the event (redeliveries included), and any
    webhooks.dlq record for it (an authentic webhook the gateway could not route)."""

    lookup: Lookup
    copies: tuple[KafkaCopy, ...] = ()
    refused: tuple[KafkaCopy, ...] = ()
    scans: tuple[Scan, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadLetterCopy:
    """A payments.validation.dlq record for the event, as contracts.dead_letters has it."""

    record: KafkaCopy
    event_id: str
    stage: str
    error_codes: tuple[str, ...]
    messages: tuple[str, ...]
    source: str  # the raw copy it was made from, topic:partition:offset

    @property
    def why(self) -> str:
        codes = ", ".join(self.error_codes) or "no code"
        first = f": {self.messages[0]}" if self.messages else ""
        return f"{codes} at {self.stage}{first}"


NORMALIZED, DEDUPLICATED, DEAD_LETTERED = "normalized", "deduplicated", "dead_lettered"
PENDING, NEVER_RECEIVED, REFUSED = "pending", "never_received", "refused_by_gateway"


@dataclass(frozen=True, slots=True)
class NormalizerOutcome:
    lookup: Lookup
    verdict: str = NEVER_RECEIVED
    detail: str = ""
    outputs: tuple[KafkaCopy, ...] = ()
    dead_letters: tuple[DeadLetterCopy, ...] = ()
    scans: tuple[Scan, ...] = ()


def judge_normalizer(copies: int | None, outputs: int, dead_letters: Sequence[DeadLetterCopy],
                     refused: int = 0) -> tuple[str, str]:
    """What the normalizer did with an event's raw copies: (verdict, detail).

    ``copies`` is None when the raw topics could not be read. The normalizer emits one
    output per event id and drops every later copy it remembers (its dedup table), so more
    raw copies than outputs means redeliveries were deduplicated; more outputs than copies
    happens after a crash between the write and the dedup mark (the starter absorbs it).
    ``refused`` counts the gateway's webhooks.dlq records for it, which never reach the
    normalizer (the starter quarantines them directly).
    """
    letters = len(dead_letters)
    emitted = outputs + letters
    if emitted == 0:
        if copies:
            return PENDING, (f"{copies} raw cop{'y' if copies == 1 else 'ies'} but no output "
                             "yet: the normalizer has not reached it, or is lagging")
        if refused:
            return REFUSED, ("the gateway dead-lettered it to webhooks.dlq: the normalizer "
                             "never saw it, the starter quarantines it")
        return NEVER_RECEIVED, "no raw copy and no output"
    if outputs == 0:
        why = "; ".join(dict.fromkeys(letter.why for letter in dead_letters))
        return DEAD_LETTERED, f"dead-lettered: {why}"
    extra = (copies or 0) - emitted
    if extra > 0:
        return DEDUPLICATED, (f"normalized once; {extra} later cop{'y' if extra == 1 else 'ies'} "
                              "dropped as duplicates")
    if copies is not None and emitted > copies:
        return NORMALIZED, (f"normalized {emitted} times from {copies} raw cop"
                            f"{'y' if copies == 1 else 'ies'} (a replay after a crash; the "
                            "starter's workflow id absorbs the repeat)")
    return NORMALIZED, "normalized"


@dataclass(frozen=True, slots=True)
class WorkflowFinding:
    lookup: Lookup
    workflow_type: str
    workflow_id: str
    run_id: str | None = None
    status: str | None = None
    start_time: datetime | None = None
    close_time: datetime | None = None
    ui_link: str | None = None


def temporal_ui_link(base: str, namespace: str, workflow_id: str, run_id: str | None) -> str:
    """The Temporal UI page of a workflow (its latest run's history when the run is known)."""
    link = (f"{base.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/"
            f"{quote(workflow_id, safe='')}")
    return f"{link}/{quote(run_id, safe='')}/history" if run_id else link


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one PostgreSQL table (only the columns worth showing)."""

    lookup: Lookup
    rows: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class LakeFinding:
    table: str  # e.g. bronze.payment_events
    lookup: Lookup


@dataclass(frozen=True, slots=True)
class EventTrace:
    event_id: str
    provider: str | None
    provider_event_id: str | None
    receipt: Receipt
    normalizer: NormalizerOutcome
    workflows: tuple[WorkflowFinding, ...]
    event_rows: Rows
    quarantine: Rows
    lake: tuple[LakeFinding, ...]


@dataclass(frozen=True, slots=True)
class PaymentTrace:
    """The whole answer: the payment (when the query names one) and each event's journey."""

    query: str
    kind: str  # "payment" or "event"
    provider: str | None
    payment_id: str | None
    payment: Rows
    events: tuple[EventTrace, ...] = ()
    mentions: Rows = field(default_factory=lambda: Rows(not_found()))
    note: str | None = None


def raw_header_text(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The raw record's headers we show (RAW_HEADERS and the origin), first value wins."""
    wanted = (*RAW_HEADERS, ORIGIN_HEADER)
    found_: dict[str, str] = {}
    for name, value in headers:
        if name in wanted and name not in found_ and value is not None:
            found_[name] = value.decode("utf-8", "replace")
    return found_
