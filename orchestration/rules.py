"""Business rules for a unified payment event: pure functions, no I/O, no framework.

A broken rule never drops an event: the workflow records the issues on the row
(validation_status 'invalid') and persists it anyway.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from contracts import (
    FAILURE_EVENT_TYPES,
    MAX_AMOUNT_MINOR,
    SCHEMA_VERSION,
    SUCCESS_EVENT_TYPES,
    SUPPORTED_CURRENCIES,
    DeadLetter,
    EventType,
    PaymentEvent,
    Provider,
    ValidationIssue,
    make_event_id,
)

# Provider clocks drift; an event stamped a little after we processed it is still plausible.
CLOCK_SKEW = timedelta(minutes=5)
_LAST_FOUR = re.compile(r"^[0-9]{4}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Broken rules that the payment_events table's own CHECK constraints would also refuse.
_UNSTORABLE = frozenset({"amount.out_of_range", "card_last_four.invalid", "currency.malformed"})
_PROVIDERS = frozenset(p.value for p in Provider)
_EVENT_TYPES = frozenset(t.value for t in EventType)
_DATETIME_FIELDS = ("provider_created_at", "processed_at")
# processed_at is when *we* normalized the event; a re-normalization stamps a new one for
# the very same provider event, so it is not part of an event's identity.
IDENTITY_FIELDS = tuple(f.name for f in fields(PaymentEvent) if f.name != "processed_at")


def differing_fields(a: PaymentEvent, b: PaymentEvent) -> list[str]:
    """Fields in which two deliveries of one event_id disagree, processed_at aside."""
    return [name for name in IDENTITY_FIELDS if getattr(a, name) != getattr(b, name)]


def check_business_rules(event: PaymentEvent) -> list[ValidationIssue]:
    """Every rule the event breaks, in a stable order; empty when it is valid."""
    issues: list[ValidationIssue] = []

    def broken(code: str, message: str, field: str | None = None) -> None:
        issues.append(ValidationIssue(code=code, message=message, field=field))

    if event.event_id != make_event_id(event.provider, event.provider_event_id):
        broken("event_id.mismatch", "event_id is not <provider>:<provider_event_id>", "event_id")
    if event.provider not in _PROVIDERS:
        broken("provider.unknown", f"unknown provider {event.provider!r}", "provider")
    if event.event_type not in _EVENT_TYPES:
        broken("event_type.unknown", f"unknown event type {event.event_type!r}", "event_type")
    if event.schema_version != SCHEMA_VERSION:
        broken("schema_version.unsupported", f"schema version {event.schema_version}",
               "schema_version")
    if not _CURRENCY.match(event.currency):
        broken("currency.malformed", "currency must be 3 upper-case letters", "currency")
    elif event.currency not in SUPPORTED_CURRENCIES:
        broken("currency.unsupported", f"currency {event.currency!r} is not supported", "currency")
    if not 0 <= event.amount_cents <= MAX_AMOUNT_MINOR:
        broken("amount.out_of_range", f"amount {event.amount_cents} outside 0..{MAX_AMOUNT_MINOR}",
               "amount_cents")
    if event.event_type in SUCCESS_EVENT_TYPES:
        if event.amount_cents == 0:
            broken("amount.zero_success", "a successful payment of zero", "amount_cents")
        if event.failure_code:
            broken("failure_code.on_success", "a successful payment carries a failure code",
                   "failure_code")
    if event.event_type in FAILURE_EVENT_TYPES and not event.failure_code:
        broken("failure_code.missing", "a failed payment without a failure code", "failure_code")
    if event.card_last_four is not None and not _LAST_FOUR.match(event.card_last_four):
        broken("card_last_four.invalid", "card_last_four must be exactly 4 digits",
               "card_last_four")
    naive = [name for name in _DATETIME_FIELDS if getattr(event, name).tzinfo is None]
    for name in naive:
        broken("timestamp.naive", f"{name} has no time zone", name)
    if not naive and event.provider_created_at > event.processed_at + CLOCK_SKEW:
        broken("timestamp.order", "provider_created_at is after processed_at",
               "provider_created_at")
    return issues


class CorrectedEventError(ValueError):
    """A reviewer's corrected event is not a unified payment event."""


def parse_payment_event(data: dict[str, Any]) -> PaymentEvent:
    """Turn a reviewer's JSON object into a PaymentEvent, or say what is wrong with it."""
    if not isinstance(data, dict):
        raise CorrectedEventError("corrected_event must be a JSON object")
    known = {f.name for f in fields(PaymentEvent)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CorrectedEventError(f"unknown fields: {', '.join(unknown)}")
    values = dict(data)
    for name in _DATETIME_FIELDS:
        if isinstance(values.get(name), str):
            try:
                values[name] = datetime.fromisoformat(values[name])
            except ValueError as err:
                raise CorrectedEventError(f"{name}: {err}") from None
    try:
        event = PaymentEvent(**values)
    except TypeError as err:
        raise CorrectedEventError(str(err)) from None
    for name in _DATETIME_FIELDS:
        if not isinstance(getattr(event, name), datetime):
            raise CorrectedEventError(f"{name} must be an RFC 3339 timestamp")
    if not isinstance(event.amount_cents, int) or isinstance(event.amount_cents, bool):
        raise CorrectedEventError("amount_cents must be an integer")
    if not isinstance(event.metadata, dict):
        raise CorrectedEventError("metadata must be an object")
    return event


def read_original_payload(letter: DeadLetter) -> dict[str, Any]:
    """The dead letter's payload as a unified event object, when it already is one."""
    if letter.payload_encoding != "utf-8":
        raise CorrectedEventError("the original payload is binary; send a corrected event")
    try:
        data = json.loads(letter.payload)
    except ValueError:
        raise CorrectedEventError(
            "the original payload is not JSON; send a corrected event") from None
    if not isinstance(data, dict):
        raise CorrectedEventError("the original payload is not a JSON object")
    return data


def refuses_storage(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """The issues that the payment_events table's own CHECKs would refuse to store."""
    return [issue for issue in issues if issue.code in _UNSTORABLE]
