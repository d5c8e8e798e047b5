"""webhooks.dlq records (the gateway's contract) become dead letters, whatever they lack."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from contracts.dead_letters import decode_payload
from streams.gateway_letters import gateway_dead_letter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"id": "evt_1", "type": "payment_intent.unknown"}'


def letter(value=BODY, key=b"evt_1", headers=None, offset=7):
    return gateway_dead_letter(value, key, headers, topic="webhooks.dlq", partition=0,
                               offset=offset, now=NOW)


def full_headers(**changes) -> list[tuple[str, bytes]]:
    values = {"provider": "stripe", "reason": "event_type.unknown",
              "detail": "payment_intent.unknown is not routed", "event_id": "evt_1",
              "received_at": "2026-02-28T10:00:00Z", "request_id": "req-1", **changes}
    return [(name, value.encode()) for name, value in values.items() if value is not None]


def test_a_full_record_is_keyed_by_its_event_id_with_the_reason_and_coordinates():
    dl = letter(headers=full_headers())
    assert dl.event_id == "stripe:evt_1"
    assert (dl.provider, dl.provider_event_id, dl.stage) == ("stripe", "evt_1", "gateway")
    assert dl.error_codes == ["event_type.unknown"]
    assert dl.errors[0].message == "payment_intent.unknown is not routed"
    assert (dl.source_topic, dl.source_partition, dl.source_offset) == ("webhooks.dlq", 0, 7)
    assert dl.failed_at == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert BODY.startswith(decode_payload(dl.payload, dl.payload_encoding)[:16])


def test_two_deliveries_of_one_event_share_the_id_and_so_the_review():
    assert letter(headers=full_headers(), offset=1).event_id == letter(
        headers=full_headers(), offset=2).event_id


def test_a_record_without_headers_is_still_a_dead_letter_keyed_by_its_coordinates():
    dl = letter(key=b"request:abc", headers=None)
    assert dl.event_id == "dlq:webhooks.dlq:0:7"
    assert dl.error_codes == ["gateway.reason_missing"]
    assert "headers present: none" in dl.errors[0].message
    assert (dl.stage, dl.failed_at, dl.provider) == ("gateway", NOW, None)


def test_without_an_event_id_header_the_key_names_the_event_unless_it_is_a_request_id():
    assert letter(key=b"evt_9", headers=full_headers(event_id=None)).event_id == "stripe:evt_9"
    request_keyed = letter(key=b"request:req-1", headers=full_headers(event_id=None))
    assert request_keyed.event_id == "dlq:webhooks.dlq:0:7"


def test_unreadable_headers_and_body_never_raise():
    dl = letter(value=b"\xff\xfe\x00", key=None,
                headers=[("reason", b"\xffbad"), ("received_at", b"yesterday"), ("x", b"y")])
    assert dl.error_codes == ["\ufffdbad"]
    assert dl.failed_at == NOW and dl.payload_encoding == "base64"


def test_headers_may_come_as_a_mapping():
    assert letter(headers=dict(full_headers())).event_id == "stripe:evt_1"


@given(value=st.binary(max_size=64), key=st.none() | st.binary(max_size=16),
       headers=st.lists(st.tuples(st.sampled_from(["provider", "reason", "detail", "event_id",
                                                   "received_at", "request_id", "other"]),
                                  st.binary(max_size=24)), max_size=8))
def test_any_record_becomes_a_dead_letter(value, key, headers):
    dl = letter(value=value, key=key, headers=headers)
    assert dl.stage == "gateway" and dl.error_codes and dl.event_id
