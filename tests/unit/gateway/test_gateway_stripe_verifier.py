"""The Stripe verifier against Stripe's documented scheme, over every shared fixture."""

from __future__ import annotations

import time

import pytest
from gateway_support import FIXTURES, ROTATED_SECRET, SECRET, sign

from gateway.errors import InvalidEventError, MalformedBodyError, SignatureError
from gateway.providers.stripe import StripeProvider, parse_signature_header

TOLERANCE = 300


@pytest.fixture
def provider() -> StripeProvider:
    return StripeProvider((SECRET, ROTATED_SECRET), TOLERANCE)


def verify(provider, body: bytes, header: str | None):
    return provider.verify(body, {"stripe-signature": header} if header is not None else {})


def test_fixtures_are_present():
    assert len(FIXTURES) >= 18


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_verifies_when_signed(provider, path):
    body = path.read_bytes()
    (event,) = verify(provider, body, sign(body))
    assert event.event_type == path.stem
    assert event.value is body


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_verifies_with_the_rotated_secret(provider, path):
    body = path.read_bytes()
    (event,) = verify(provider, body, sign(body, ROTATED_SECRET))
    assert event.event_type == path.stem


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_is_refused_once_tampered(provider, path):
    body = path.read_bytes()
    header = sign(body)
    tampered = body.replace(b'"livemode": false', b'"livemode": true ', 1)
    assert tampered != body
    with pytest.raises(SignatureError) as caught:
        verify(provider, tampered, header)
    assert caught.value.reason == "signature_mismatch"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_is_refused_when_expired_or_future(provider, path):
    body = path.read_bytes()
    now = int(time.time())
    with pytest.raises(SignatureError) as expired:
        verify(provider, body, sign(body, timestamp=now - TOLERANCE - 60))
    assert expired.value.reason == "timestamp_expired"
    with pytest.raises(SignatureError) as future:
        verify(provider, body, sign(body, timestamp=now + TOLERANCE + 60))
    assert future.value.reason == "timestamp_in_future"


def test_timestamps_within_tolerance_either_side_pass(provider):
    body = FIXTURES[0].read_bytes()
    now = int(time.time())
    verify(provider, body, sign(body, timestamp=now - TOLERANCE + 30))
    verify(provider, body, sign(body, timestamp=now + TOLERANCE - 30))


def test_any_one_of_several_v1_signatures_may_match(provider):
    body = FIXTURES[0].read_bytes()
    good = sign(body)
    t, _, v1 = good.partition(",")
    header = f"{t},v1={'0' * 64},{v1},v0=deadbeef"
    verify(provider, body, header)


def test_a_secret_not_configured_is_refused(provider):
    body = FIXTURES[0].read_bytes()
    with pytest.raises(SignatureError) as caught:
        verify(provider, body, sign(body, "whsec_someone_else"))
    assert caught.value.reason == "signature_mismatch"
    assert "whsec" not in caught.value.detail


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "signature_missing"),
        ("", "signature_missing"),
        ("garbage", "signature_malformed"),
        ("t=abc,v1=00", "signature_malformed"),
        ("t=-5,v1=00", "signature_malformed"),
        ("t=123", "signature_malformed"),
        ("v1=00", "signature_malformed"),
        ("t=123,v1=", "signature_malformed"),
        ("t=123,v0=00", "signature_malformed"),
    ],
)
def test_header_problems_name_the_failed_check(provider, header, reason):
    with pytest.raises(SignatureError) as caught:
        verify(provider, b"{}", header)
    assert caught.value.reason == reason


def test_parse_header_reads_timestamp_and_signatures():
    assert parse_signature_header("t=12,v1=ab,v1=cd,v0=ef") == (12, ["ab", "cd"])


def test_non_utf8_body_is_malformed_not_a_crash(provider):
    body = b'{"id": "evt_\xff"}'
    with pytest.raises(MalformedBodyError) as caught:
        verify(provider, body, sign(body))
    assert caught.value.reason == "body_not_utf8"


def test_signed_non_json_is_malformed(provider):
    body = b"not json"
    with pytest.raises(MalformedBodyError) as caught:
        verify(provider, body, sign(body))
    assert caught.value.reason == "body_not_json"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"type": "charge.succeeded", "data": {"object": {"object": "charge"}}}',
        b'{"id": "evt_1", "data": {"object": {"object": "charge"}}}',
        b'{"id": "evt_1", "type": "charge.succeeded", "data": {}}',
        b'{"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"id": "ch_1"}}}',
        b'{"id": 7, "type": "charge.succeeded", "data": {"object": {"object": "charge"}}}',
    ],
)
def test_authentic_but_misshapen_events_are_invalid(provider, body):
    with pytest.raises(InvalidEventError) as caught:
        verify(provider, body, sign(body))
    assert caught.value.reason == "invalid_structure"


def test_authentic_event_of_unknown_type_is_invalid(provider):
    body = b'{"id": "evt_u1", "type": "customer.created", "data": {"object": {"object": "x"}}}'
    with pytest.raises(InvalidEventError) as caught:
        verify(provider, body, sign(body))
    assert (caught.value.reason, caught.value.event_id) == ("unknown_event_type", "evt_u1")
