"""The webhooks.dlq envelope: what the gateway writes, the starter reads back, whole."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from contracts.dead_letters import (
    GATEWAY_DLQ_HEADERS,
    gateway_dead_letter_event_id,
    gateway_dead_letter_headers,
    gateway_dead_letter_key,
    read_gateway_dead_letter_headers,
)
from contracts.limits import MAX_HEADERS_BYTES, headers_size
from streams.gateway_letters import gateway_dead_letter

VALUES = {"provider": "adyen", "reason": "event_type.unknown", "detail": "not routed",
          "event_id": "8816178952380553", "received_at": "2026-02-28T10:00:00.5Z",
          "request_id": "req-1"}


def envelope(**changes):
    values = {**VALUES, **changes}
    return (gateway_dead_letter_key(values["event_id"], values["request_id"]),
            gateway_dead_letter_headers(**values))


def test_every_header_is_read_back_as_written_in_the_contracts_order():
    key, headers = envelope()
    assert [name for name, _ in headers] == list(GATEWAY_DLQ_HEADERS)
    fields = read_gateway_dead_letter_headers(headers)
    assert fields == VALUES
    assert key == b"8816178952380553"
    assert gateway_dead_letter_event_id(fields, key) == "8816178952380553"


def test_an_id_less_item_is_keyed_by_its_request_and_has_no_event_id():
    key, headers = envelope(event_id=None)
    fields = read_gateway_dead_letter_headers(headers)
    assert key == b"request:req-1"
    assert "event_id" not in fields
    assert gateway_dead_letter_event_id(fields, key) is None


def test_the_key_names_the_event_when_the_header_is_missing():
    assert gateway_dead_letter_event_id({}, b"evt_1") == "evt_1"
    assert gateway_dead_letter_event_id({}, None) is None


def test_the_reader_keeps_the_first_non_empty_value_of_the_contracts_headers_only():
    headers = [("reason", b""), ("reason", b"r1"), ("reason", b"r2"), ("other", b"x"),
               (b"provider", b"\xffstripe")]
    assert read_gateway_dead_letter_headers(headers) == {"reason": "r1",
                                                         "provider": "\ufffdstripe"}
    assert read_gateway_dead_letter_headers({"detail": b"d"}) == {"detail": "d"}
    assert read_gateway_dead_letter_headers(None) == {}


@given(st.text(max_size=3000))
def test_any_detail_fits_the_budget_and_reads_back_as_its_prefix(detail):
    _, headers = envelope(detail=detail)
    assert headers_size(headers) <= MAX_HEADERS_BYTES
    assert detail.startswith(
        read_gateway_dead_letter_headers(headers).get("detail", ""))


def test_the_starter_makes_the_gateways_record_into_its_dead_letter():
    key, headers = envelope()
    letter = gateway_dead_letter(b"{}", key, headers, topic="webhooks.dlq", partition=2,
                                 offset=9, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert (letter.event_id, letter.provider, letter.provider_event_id) == (
        "adyen:8816178952380553", "adyen", "8816178952380553")
    assert (letter.error_codes, letter.errors[0].message) == (["event_type.unknown"],
                                                              "not routed")
    assert letter.failed_at == datetime(2026, 2, 28, 10, 0, 0, 500000, tzinfo=UTC)
