"""What `python -m orchestration.replay` reads, finds missing and re-produces: pure.

The command reads a provider's raw topics over a window of Kafka timestamps, groups the
records by event (a webhook redelivered in the window is one event), asks PostgreSQL which
events it holds, and re-produces the first copy of each missing one. Everything here is
data in, data out; replay.py does the Kafka and PostgreSQL I/O around it.

An event's id is the raw key: ``contracts.events.make_event_id(provider, key)`` is the
unified event_id of its ``payment_events`` row and of a dead letter the normalizer filed
under it, for all four providers (the mappers build the id from the key, or, for Stripe,
from the body's ``id`` that the gateway keyed the record by). A dead letter that named no
usable id is filed under the record's coordinates with no provider event id; such a letter
holds the event when it keeps the same bytes from the same topic (its payload_sha256). A
record without a usable key (the gateway never writes one) names no event: it is reported,
never re-driven.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.events import make_event_id
from contracts.providers import ORIGIN_HEADER, Origin

__all__ = [
    "Candidate",
    "OffsetRange",
    "RawRecord",
    "ReplayPlan",
    "ReplayResult",
    "Redriven",
    "Window",
    "due_at",
    "event_key",
    "format_report",
    "group_records",
    "offset_ranges",
    "parse_instant",
    "plan_replay",
    "replay_headers",
]

Coordinates = tuple[str, int, int]  # topic, partition, offset
Payload = tuple[str, str]  # topic, sha256 hex of the record's value


@dataclass(frozen=True, slots=True)
class Window:
    """Kafka timestamps from ``since`` (inclusive) to ``until`` (exclusive), in ms."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since >= self.until:
            raise ValueError(f"--since ({self.since.isoformat()}) must be before --until "
                             f"({self.until.isoformat()})")

    @property
    def since_ms(self) -> int:
        return _epoch_ms(self.since)

    @property
    def until_ms(self) -> int:
        return _epoch_ms(self.until)

    def holds(self, timestamp_ms: int) -> bool:
        return self.since_ms <= timestamp_ms < self.until_ms


def parse_instant(text: str) -> datetime:
    """An RFC 3339 time with its offset (``2026-12-01T10:00:00Z``), as UTC.

    A time without an offset is refused rather than guessed: the window is compared with
    Kafka's UTC timestamps, and a local time read as UTC would shift it silently.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time, e.g. 2026-12-01T10:00:00Z") \
            from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add Z or +HH:MM")
    return moment.astimezone(UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class OffsetRange:
    """Offsets [start, end) of one partition."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def offset_ranges(starts: Mapping[tuple[str, int], int | None],
                  ends: Mapping[tuple[str, int], int | None],
                  log_ends: Mapping[tuple[str, int], int]) -> list[OffsetRange]:
    """Each partition's offsets of the window, from ``offsets_for_times`` at its two ends.

    ``offsets_for_times`` gives the first offset whose timestamp is at or after the time, or
    None when no record is: a missing start means nothing in the window, a missing end means
    the window runs to the log's end. Empty ranges are left out.
    """
    ranges = []
    for tp in sorted(log_ends):
        log_end = log_ends[tp]
        start = starts.get(tp)
        if start is None:
            continue
        end = ends.get(tp)
        end = log_end if end is None else min(end, log_end)
        if end > start:
            ranges.append(OffsetRange(tp[0], tp[1], start, end))
    return ranges


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One raw-topic record as read back: enough to name it and to produce it again."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def coordinates(self) -> Coordinates:
        return self.topic, self.partition, self.offset

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def payload(self) -> Payload:
        """(topic, sha256 hex of the value): how a dead letter naming no id is matched."""
        return self.topic, hashlib.sha256(self.value or b"").hexdigest()


def event_key(record: RawRecord) -> str | None:
    """The provider event id the record's key names, or None when it names none."""
    if not record.key:
        return None
    try:
        text = record.key.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.strip() else None


@dataclass(slots=True)
class Candidate:
    """One event of the window: every copy of it that was read, the first one first."""

    provider_event_id: str
    event_id: str
    copies: list[RawRecord] = field(default_factory=list)

    @property
    def first(self) -> RawRecord:
        return self.copies[0]


def group_records(provider: str, records: Iterable[RawRecord]
                  ) -> tuple[dict[str, Candidate], list[RawRecord]]:
    """The window's events by provider event id (copies in read order), and the unkeyed."""
    events: dict[str, Candidate] = {}
    unkeyed: list[RawRecord] = []
    for record in records:
        key = event_key(record)
        if key is None:
            unkeyed.append(record)
            continue
        candidate = events.get(key)
        if candidate is None:
            candidate = events[key] = Candidate(key, make_event_id(provider, key))
        candidate.copies.append(record)
    for candidate in events.values():
        candidate.copies.sort(key=lambda r: (r.timestamp_ms, r.topic, r.partition, r.offset))
    return events, unkeyed


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    scanned: int  # records read in the window
    events: int  # distinct events among them
    held: int  # events with a row in payment_events or quarantine
    missing: list[Candidate]  # events with neither, to re-drive (first copy each)
    unkeyed: list[RawRecord]  # records naming no event id: reported, not re-driven

    @property
    def redeliveries(self) -> int:
        return self.scanned - len(self.unkeyed) - self.events


def plan_replay(events: Mapping[str, Candidate], unkeyed: Sequence[RawRecord],
                held_ids: set[str], held_payloads: set[Payload]) -> ReplayPlan:
    """Which events are missing: held neither by their id nor by any copy's payload.

    ``held_ids`` are provider event ids; ``held_payloads`` are the copies' (topic, digest)
    that a dead letter naming no usable id holds (``RawRecord.payload``).
    """
    missing = [c for c in events.values()
               if c.provider_event_id not in held_ids
               and not any(r.payload in held_payloads for r in c.copies)]
    missing.sort(key=lambda c: (c.first.timestamp_ms, c.first.coordinates))
    scanned = sum(len(c.copies) for c in events.values()) + len(unkeyed)
    return ReplayPlan(scanned, len(events), len(events) - len(missing), missing, list(unkeyed))


@dataclass(slots=True)
class Redriven:
    """A missing event produced again: where its copy landed."""

    candidate: Candidate
    partition: int
    offset: int


@dataclass(slots=True)
class ReplayResult:
    plan: ReplayPlan
    redriven: list[Redriven] = field(default_factory=list)


def format_report(provider: str, window: Window, id_prefix: str, applied: bool,
                  result: ReplayResult) -> str:
    """What was missing (and re-driven), one line each, then the counts."""
    plan = result.plan
    lines = [f"{'missing event_id':<56} {'topic/partition@offset':<44} kafka timestamp"
             ] if plan.missing or plan.unkeyed else []
    for c in plan.missing:
        r = c.first
        lines.append(f"{c.event_id:<56} {f'{r.topic}/{r.partition}@{r.offset}':<44} "
                     f"{r.timestamp.isoformat()}")
    for r in plan.unkeyed:
        lines.append(f"{'(no event id: not re-driven)':<56} "
                     f"{f'{r.topic}/{r.partition}@{r.offset}':<44} {r.timestamp.isoformat()}")
    for d in result.redriven:
        lines.append(f"re-driven {d.candidate.event_id} -> {d.candidate.first.topic}/"
                     f"{d.partition}@{d.offset}")
    span = f"{window.since.isoformat()} .. {window.until.isoformat()}"
    only = f" (ids starting {id_prefix!r})" if id_prefix else ""
    lines.append(f"{provider} {span}{only}: scanned {plan.scanned} records, "
                 f"{plan.events} events ({plan.redeliveries} redeliveries), held {plan.held}, "
                 f"missing {len(plan.missing)}, no event id {len(plan.unkeyed)}, "
                 f"re-driven {len(result.redriven)}"
                 + ("" if applied or not plan.missing else " (dry run: --apply re-drives)"))
    return "\n".join(lines)


def replay_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The record's own headers, with ``origin: replay`` in place of any origin it had."""
    kept = [(name, value) for name, value in headers if name != ORIGIN_HEADER]
    return [*kept, (ORIGIN_HEADER, Origin.REPLAY.value.encode())]


def due_at(index: int, rate: float) -> float:
    """Seconds after the first send at which send number ``index`` (from 0) may go."""
    if rate <= 0:
        raise ValueError("the rate must be above 0 per second")
    return index / rate
