"""The Faust record mirrors the contract, and both output encodings round-trip."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.dead_letters import DeadLetter, ValidationIssue
from contracts.events import PaymentEvent
from streams.codecs import (
    UndecodableMessageError,
    build_dead_letter,
    decode_dead_letter,
    decode_event,
    encode_dead_letter,
    encode_event,
)
from streams.records import (
    DeadLetterRecord,
    IssueRecord,
    NormalizedEvent,
    dead_letter_value,
    letter_record,
    normalized_value,
    to_event,
    to_letter,
    to_record,
)
from tests.builders import make_payment_event

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def normalized_type(tp):
    """Optional[str] == str | None and Dict[str, str] == dict[str, str], for comparison."""
    origin = typing.get_origin(tp)
    if origin is None:
        return tp
    if origin in (typing.Union,) or str(origin) == "<class 'types.UnionType'>":
        return ("union", frozenset(normalized_type(a) for a in typing.get_args(tp)))
    return (origin, tuple(normalized_type(a) for a in typing.get_args(tp)))


# A Record's nested Record stands for the contract's nested dataclass.
NESTED = {IssueRecord: ValidationIssue}


@pytest.mark.parametrize(("record_type", "contract_type"), [
    (NormalizedEvent, PaymentEvent), (DeadLetterRecord, DeadLetter),
    (IssueRecord, ValidationIssue)])
def test_record_fields_and_types_match_the_contract(record_type, contract_type):
    contract = typing.get_type_hints(contract_type)
    record = typing.get_type_hints(record_type)
    record = {k: v for k, v in record.items() if k in record_type._options.fields}
    assert list(record) == list(contract)  # the order is the JSON's order on the wire

    def norm(tp):
        tp = normalized_type(tp)
        if isinstance(tp, tuple) and tp[0] is list:
            return (list, tuple(NESTED.get(a, a) for a in tp[1]))
        return tp

    assert {k: norm(v) for k, v in record.items()} == {
        k: norm(v) for k, v in contract.items()}
    contract_fields = dataclasses.fields(contract_type)
    defaults = {f.name: f.default for f in contract_fields if f.default is not dataclasses.MISSING}
    defaults |= {f.name: f.default_factory() for f in contract_fields
                 if f.default_factory is not dataclasses.MISSING}
    assert dict(record_type._options.defaults) == defaults


def test_namespaces_are_stable():
    assert NormalizedEvent._options.namespace == "payments.normalized.v1"
    assert DeadLetterRecord._options.namespace == "payments.validation.dlq.v1"
    assert IssueRecord._options.namespace == "payments.validation.issue.v1"


EVENTS = [
    make_payment_event(provider_created_at=NOW, processed_at=NOW),
    make_payment_event(provider_created_at=NOW.replace(microsecond=0), processed_at=NOW,
                       metadata={"order": "ünïcode ✓", "empty": ""}, card_last_four="4242",
                       failure_code="card_declined", failure_message='say "no"'),
]
LETTERS = [
    build_dead_letter(b"\xff\x00poison", [ValidationIssue("payload.not_json", "bad")],
                      topic="t", partition=2, offset=7, failed_at=NOW),
    build_dead_letter("é".encode() * 3000, [ValidationIssue("amount.not_integer", "x", "amount"),
                                            ValidationIssue("currency.unsupported", "y")],
                      topic="webhooks.stripe.charge", partition=0, offset=1, failed_at=NOW,
                      provider="stripe", provider_event_id="evt_1", stage="publish"),
]


@pytest.mark.parametrize("event", EVENTS)
def test_normalized_record_bytes_are_todays_bytes(event):
    """The wire format did not change: the Record writes what orjson wrote of the dataclass,
    so every reader of payments.normalized (e2e harness, batch, an older starter) still reads
    it, and the Record reads what was written before it."""
    raw = normalized_value(event)
    assert raw == encode_event(event)
    assert decode_event(raw) == event
    assert to_event(NormalizedEvent.loads(encode_event(event))) == event
    built = NormalizedEvent(**{k: getattr(event, k) for k in NormalizedEvent._options.fields})
    assert built.dumps() == raw


_text = st.text(max_size=40)
_maybe = st.none() | _text
_when = st.datetimes(timezones=st.just(UTC))
EVENT_VALUES = st.builds(
    PaymentEvent, event_id=_text, provider=_text, provider_event_id=_text, event_type=_text,
    amount_cents=st.integers(0, 2**63 - 1), currency=_text, status=_text,
    provider_created_at=_when, processed_at=_when, payment_id=_maybe, merchant_id=_maybe,
    customer_id=_maybe, payment_method_type=_maybe, card_brand=_maybe, card_last_four=_maybe,
    failure_code=_maybe, failure_message=_maybe,
    metadata=st.dictionaries(_text, _text, max_size=4), schema_version=st.integers(1, 9))


@given(EVENT_VALUES)
def test_the_normalizer_writes_exactly_the_records_bytes(event):
    """normalized_value encodes the contract dataclass directly (a third of the Record's
    cost per event, issue 19); what it writes must stay the NormalizedEvent's own bytes,
    for any value of every field, and read back as that Record."""
    raw = normalized_value(event)
    assert raw == to_record(event).dumps()
    assert to_event(NormalizedEvent.loads(raw)) == event


@pytest.mark.parametrize("letter", LETTERS)
def test_dead_letter_record_bytes_are_todays_bytes(letter):
    raw = dead_letter_value(letter)
    assert raw == encode_dead_letter(letter)
    assert decode_dead_letter(raw) == letter
    assert to_letter(DeadLetterRecord.loads(encode_dead_letter(letter))) == letter
    assert letter_record(letter) == DeadLetterRecord.loads(raw)


def test_record_json_decodes_into_the_contract_dataclass():
    event = make_payment_event(provider_created_at=NOW, processed_at=NOW)
    raw = to_record(event).dumps(serializer="json")
    assert b"__faust" not in raw
    assert decode_event(raw) == event
    assert decode_event(encode_event(event)) == event


def test_dead_letter_round_trip_keeps_bytes_and_issues():
    letter = build_dead_letter(b"\xff\x00poison", [ValidationIssue("payload.not_json", "bad")],
                               topic="t", partition=2, offset=7, failed_at=NOW)
    assert letter.event_id == "dlq:t:2:7"
    assert letter.payload_encoding == "base64"
    again = decode_dead_letter(encode_dead_letter(letter))
    assert again == letter
    assert again.error_codes == ["payload.not_json"]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"event_id": "x"}'])
def test_undecodable_outputs_raise(raw):
    with pytest.raises(UndecodableMessageError):
        decode_event(raw)
    with pytest.raises(UndecodableMessageError):
        decode_dead_letter(raw)
