"""The Faust record mirrors the contract, and both output encodings round-trip."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime

import pytest

from contracts.dead_letters import ValidationIssue
from contracts.events import PaymentEvent
from streams.codecs import (
    UndecodableMessageError,
    build_dead_letter,
    decode_dead_letter,
    decode_event,
    encode_dead_letter,
    encode_event,
)
from streams.records import NormalizedEvent, to_record
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


def test_record_fields_and_types_match_the_contract():
    contract = typing.get_type_hints(PaymentEvent)
    record = typing.get_type_hints(NormalizedEvent)
    record = {k: v for k, v in record.items() if k in NormalizedEvent._options.fields}
    assert list(record) == list(contract)
    assert {k: normalized_type(v) for k, v in record.items()} == {
        k: normalized_type(v) for k, v in contract.items()}
    defaults = {f.name: f.default for f in dataclasses.fields(PaymentEvent)
                if f.default is not dataclasses.MISSING}
    assert {k: v for k, v in NormalizedEvent._options.defaults.items() if k in defaults} == defaults


def test_namespace_is_stable():
    assert NormalizedEvent._options.namespace == "payments.normalized.v1"


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
