"""Faust Records on the topics the pipeline produces; they mirror the contracts, tests keep them so.

``payments.normalized`` carries ``NormalizedEvent`` (``contracts.events.PaymentEvent``) and
``payments.validation.dlq`` carries ``DeadLetterRecord`` (``contracts.dead_letters.DeadLetter``).
Both are JSON without faust's ``__faust`` metadata, through the ``orjson`` codec registered
here in faust's codec registry: a record's bytes are exactly what orjson makes of the
contract dataclass, the wire format every reader (the starter, the e2e harness, batch)
already decodes. ``tests/unit/streams/test_streams_records.py`` pins fields, types and bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional  # noqa: UP035 - faust's Record introspection wants typing forms

import faust
import orjson
from faust.serializers import codecs

from contracts.dead_letters import DeadLetter, ValidationIssue
from contracts.events import PAYMENT_EVENT_FIELDS, SCHEMA_VERSION, PaymentEvent, mistyped_fields
from streams.faust_internals import trusted_record

CODEC = "orjson"


def _default(obj: Any) -> Any:
    # A nested Record (an issue inside a dead letter) is written as its plain fields.
    if isinstance(obj, faust.Record):
        return obj.to_representation()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


class OrjsonCodec(codecs.Codec):
    """JSON by orjson: several times faster than faust's json codec, and the same bytes the
    pipeline wrote before Records (compact separators, RFC 3339 datetimes)."""

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


_ORJSON = OrjsonCodec()
codecs.register(CODEC, _ORJSON)


class NormalizedEvent(
    faust.Record,
    serializer=CODEC,
    namespace="payments.normalized.v1",  # renaming breaks deserialization: keep it stable
    include_metadata=False,  # the topic carries exactly the PaymentEvent fields
    isodates=True,
):
    """contracts.events.PaymentEvent as a Faust record on payments.normalized."""

    event_id: str
    provider: str
    provider_event_id: str
    event_type: str
    amount_cents: int
    currency: str
    status: str
    provider_created_at: datetime
    processed_at: datetime
    payment_id: Optional[str] = None  # noqa: UP045 - see the typing import
    merchant_id: Optional[str] = None  # noqa: UP045
    customer_id: Optional[str] = None  # noqa: UP045
    payment_method_type: Optional[str] = None  # noqa: UP045
    card_brand: Optional[str] = None  # noqa: UP045
    card_last_four: Optional[str] = None  # noqa: UP045
    failure_code: Optional[str] = None  # noqa: UP045
    failure_message: Optional[str] = None  # noqa: UP045
    metadata: Dict[str, str] = {}  # noqa: UP006, RUF012 - faust copies defaults per instance
    schema_version: int = SCHEMA_VERSION


class IssueRecord(faust.Record, serializer=CODEC, namespace="payments.validation.issue.v1",
                  include_metadata=False):
    """contracts.dead_letters.ValidationIssue inside a DeadLetterRecord."""

    code: str
    message: str
    field: Optional[str] = None  # noqa: UP045


class DeadLetterRecord(
    faust.Record,
    serializer=CODEC,
    namespace="payments.validation.dlq.v1",  # keep it stable, as NormalizedEvent's
    include_metadata=False,
    isodates=True,
):
    """contracts.dead_letters.DeadLetter as a Faust record on payments.validation.dlq."""

    event_id: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload: str
    payload_encoding: str
    errors: List[IssueRecord]  # noqa: UP006
    failed_at: datetime
    stage: str = "validate"
    provider: Optional[str] = None  # noqa: UP045
    provider_event_id: Optional[str] = None  # noqa: UP045
    error_codes: List[str] = []  # noqa: UP006, RUF012
    payload_sha256: Optional[str] = None  # noqa: UP045
    payload_length: Optional[int] = None  # noqa: UP045
    payload_truncated: bool = False
    payload_redaction: Optional[str] = None  # noqa: UP045


DEAD_LETTER_FIELDS: tuple[str, ...] = tuple(DeadLetterRecord._options.fields)


def to_record(event: PaymentEvent) -> NormalizedEvent:
    """The record of a mapped event, taken as it is (faust's generated __init__ would check
    and convert each field again; see faust_internals.trusted_record). The normalizer
    writes normalized_value's bytes without building it; tests pin the two equal."""
    return trusted_record(NormalizedEvent,
                          {name: getattr(event, name) for name in PAYMENT_EVENT_FIELDS})


def to_event(record: NormalizedEvent) -> PaymentEvent:
    """The contract dataclass of a decoded record (a Temporal workflow's input)."""
    values = {name: getattr(record, name) for name in PAYMENT_EVENT_FIELDS}
    event = PaymentEvent(**values)
    wrong = mistyped_fields(event)
    if wrong:
        raise TypeError(f"not of the contract's type: {', '.join(wrong)}")
    return event


def letter_record(letter: DeadLetter) -> DeadLetterRecord:
    values = {name: getattr(letter, name) for name in DEAD_LETTER_FIELDS}
    values["errors"] = [trusted_record(IssueRecord, {"code": i.code, "message": i.message,
                                                     "field": i.field}) for i in letter.errors]
    values["error_codes"] = list(letter.error_codes)
    return trusted_record(DeadLetterRecord, values)


def to_letter(record: DeadLetterRecord) -> DeadLetter:
    """The contract dataclass of a decoded record; raises TypeError for a malformed one."""
    values = {name: getattr(record, name) for name in DEAD_LETTER_FIELDS}
    if not isinstance(values["errors"], list) or not isinstance(values["failed_at"], datetime):
        raise TypeError("errors must be a list and failed_at a datetime")
    values["errors"] = [_issue(issue) for issue in values["errors"]]
    return DeadLetter(**values)


def _issue(issue: Any) -> ValidationIssue:
    if isinstance(issue, IssueRecord):
        return ValidationIssue(issue.code, issue.message, issue.field)
    if isinstance(issue, dict):
        return ValidationIssue(**issue)
    raise TypeError(f"not a ValidationIssue: {issue!r}")


def normalized_value(event: PaymentEvent) -> bytes:
    """What the normalizer writes for an event: its NormalizedEvent's bytes.

    Encoded from the contract dataclass by the Record's own codec, without building the
    Record: the same bytes (test_streams_records.py pins them equal for any field values)
    at a third of the cost, ~2 against ~6 µs per event (issue 19). The codec is called
    itself: faust's registry would look it up by name for every event."""
    return _ORJSON.dumps(event)


def dead_letter_value(letter: DeadLetter) -> bytes:
    """What goes to payments.validation.dlq for a letter: its DeadLetterRecord's bytes."""
    return letter_record(letter).dumps()
