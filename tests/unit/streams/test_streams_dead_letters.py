"""A dead letter never outgrows its budget, whatever the input it describes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.dead_letters import DeadLetter, ValidationIssue, encode_payload
from contracts.limits import DEAD_LETTER_MAX_BYTES, MAX_KEY_BYTES, PAYLOAD_EXCERPT_BYTES
from streams.codecs import (
    build_dead_letter,
    decode_dead_letter,
    encode_dead_letter,
    key_event_id,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Control characters cost six bytes each once JSON-escaped: the worst case for a budget.
hostile_text = st.text(alphabet=st.sampled_from("\x01\"\\é€𝄞a"), max_size=20_000) | st.text(
    max_size=2_000)
issues = st.lists(st.builds(ValidationIssue, hostile_text, hostile_text,
                            st.none() | hostile_text), max_size=80)
payloads = st.binary(max_size=2 * PAYLOAD_EXCERPT_BYTES) | st.builds(
    lambda s, n: s * n, st.sampled_from([b"\x01", b'\\"', b"\xff", "€".encode()]),
    st.integers(0, 700_000))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(raw=payloads, errors=issues, provider=st.none() | st.sampled_from(["stripe", "adyen"]),
       provider_event_id=st.none() | hostile_text, topic=st.text(
           alphabet="abcdefghijklmnopqrstuvwxyz._-", min_size=1, max_size=249),
       stage=st.sampled_from(["validate", "normalize", "start", "publish"]))
def test_an_encoded_dead_letter_never_exceeds_its_budget(raw, errors, provider, provider_event_id,
                                                         topic, stage):
    letter = build_dead_letter(raw, errors, topic=topic, partition=2**31 - 1, offset=2**63 - 1,
                               failed_at=NOW, stage=stage, provider=provider,
                               provider_event_id=provider_event_id)
    encoded = encode_dead_letter(letter)
    assert len(encoded) <= DEAD_LETTER_MAX_BYTES
    assert len(letter.event_id.encode()) <= MAX_KEY_BYTES
    assert (letter.payload_length, letter.payload_sha256) == (
        len(raw), hashlib.sha256(raw).hexdigest())
    assert decode_dead_letter(encoded) == letter


def stripe_like(size: int) -> bytes:
    """A Stripe-shaped event whose currency is a long run of quotes: each costs 2 bytes in
    the body, 4 once the body is JSON-escaped again, and 2 more in a repr'd message."""
    return orjson.dumps({"id": "evt_big", "type": "charge.succeeded", "created": 1,
                         "data": {"object": {"id": "ch_1", "object": "charge", "amount": 100,
                                             "currency": '"' * (size // 2)}}})


def test_a_600_kb_invalid_event_gives_a_small_dead_letter():
    raw = stripe_like(600_000)
    quotes = '"' * 300_000
    issue = ValidationIssue("currency.unsupported", f"currency {quotes!r} is not supported")
    letter = build_dead_letter(raw, [issue], topic="webhooks.stripe.charge", partition=0,
                               offset=9, failed_at=NOW, provider="stripe",
                               provider_event_id="evt_big")
    encoded = encode_dead_letter(letter)
    assert len(encoded) <= DEAD_LETTER_MAX_BYTES
    assert letter.event_id == "stripe:evt_big" and letter.payload_truncated
    # The whole of it, as before this budget, would not fit a Kafka record at all.
    whole = orjson.dumps({**orjson.loads(encoded), "payload": encode_payload(raw)[0],
                          "errors": [{"code": issue.code, "message": issue.message}]})
    assert len(whole) > 1_048_576


def test_an_event_id_too_long_for_a_key_is_filed_under_its_coordinates():
    letter = build_dead_letter(b"{}", [ValidationIssue("amount.invalid", "bad")], topic="t",
                               partition=1, offset=5, failed_at=NOW, provider="stripe",
                               provider_event_id="evt_" + "x" * 600_000)
    assert letter.event_id == "dlq:t:1:5" and letter.provider_event_id is None
    assert letter.error_codes == ["provider_event_id.too_long", "amount.invalid"]


def test_a_letter_from_before_excerpts_is_bounded_when_read():
    raw = b"x" * 100_000
    old = DeadLetter(event_id="stripe:evt_old", source_topic="t", source_partition=0,
                     source_offset=3, payload=raw.decode(), payload_encoding="utf-8",
                     errors=[ValidationIssue("amount.invalid", "bad")], failed_at=NOW,
                     provider="stripe", provider_event_id="evt_old")
    letter = decode_dead_letter(orjson.dumps(old))
    assert letter.event_id == "stripe:evt_old" and letter.payload_truncated
    assert len(letter.payload) == PAYLOAD_EXCERPT_BYTES and letter.payload_length == len(raw)


def test_a_key_names_the_event_only_when_it_is_text():
    assert key_event_id(b"evt_1") == "evt_1"
    assert key_event_id(b"\xff") is None and key_event_id(b"  ") is None
    assert key_event_id(None) is None
