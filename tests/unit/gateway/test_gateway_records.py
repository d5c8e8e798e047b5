"""Every record the gateway writes fits contracts/limits.py: keys, headers, values."""

from __future__ import annotations

import orjson
import pytest
from gateway_support import SECRET, sign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_support import PROVIDER_SETTINGS, adyen_batch, adyen_items, basic_auth
from provider_support import sign_adyen_item as sign_item

from contracts.dead_letters import (
    GATEWAY_DLQ_HEADERS,
    gateway_dead_letter_headers,
    gateway_dead_letter_key,
)
from contracts.limits import (
    ISSUE_MESSAGE_MAX_CHARS,
    MAX_HEADERS_BYTES,
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    cut_utf8,
    headers_size,
)
from contracts.topics import ADYEN_NOTIFICATION, STRIPE_CHARGE, WEBHOOKS_DLQ
from gateway.records import (
    MAX_EVENT_ID_BYTES,
    MAX_EVENT_TYPE_BYTES,
    MAX_REQUEST_ID_BYTES,
    raw_headers,
)
from gateway.settings import GatewaySettings

URL = "/webhooks/stripe"
RECEIVED_AT = "2026-12-01T15:08:34.123456Z"
LONGEST_REASON = "x" * 64  # our reason codes are short identifiers; see the check below


@pytest.fixture
def settings_() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           **PROVIDER_SETTINGS)


def stripe_body(event_id: str, event_type: str, pad: int = 0) -> bytes:
    return orjson.dumps({"id": event_id, "type": event_type, "padding": "x" * pad,
                         "data": {"object": {"object": "charge", "id": "ch_1"}}})


def test_the_largest_headers_and_keys_fit_the_budget():
    request_id = "r" * MAX_REQUEST_ID_BYTES
    raw = raw_headers("braintree", "t" * MAX_EVENT_TYPE_BYTES, RECEIVED_AT, request_id)
    dead = gateway_dead_letter_headers(
        provider="braintree", reason=LONGEST_REASON, detail="\U0001f600" * 4096,
        event_id="e" * MAX_EVENT_ID_BYTES, received_at=RECEIVED_AT, request_id=request_id)
    assert headers_size(raw) <= MAX_HEADERS_BYTES
    assert headers_size(dead) == MAX_HEADERS_BYTES  # detail takes exactly what is left
    assert [name for name, _ in dead] == list(GATEWAY_DLQ_HEADERS)
    assert len(gateway_dead_letter_key(None, request_id)) <= MAX_KEY_BYTES
    assert MAX_EVENT_ID_BYTES + len("braintree:") <= MAX_KEY_BYTES  # the unified event id


@pytest.mark.parametrize(("text", "kept"), [("d", ISSUE_MESSAGE_MAX_CHARS), ("é", 473)])
def test_detail_is_cut_to_the_message_budget_and_never_splits_a_character(text, kept):
    headers = gateway_dead_letter_headers(provider="stripe", reason="r", detail=text * 5000,
                                          event_id=None, received_at=RECEIVED_AT,
                                          request_id="req")
    detail = dict(headers)["detail"].decode("utf-8")  # raises if a character was split
    # 512 characters, or what the other headers leave: 1,024 - 78 bytes = 473 x 2 bytes.
    assert detail == text * kept
    assert "event_id" not in dict(headers)
    assert headers_size(headers) <= MAX_HEADERS_BYTES
    assert cut_utf8("a\U0001f600", 3) == b"a"


def test_reason_codes_are_short():
    import re
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path("gateway").rglob("*.py"))
    for code in re.findall(r'Error\(\s*"([a-z_]+)"', source):
        assert len(code) <= len(LONGEST_REASON), code


async def test_an_id_too_long_for_a_key_is_dead_lettered_by_request(client, publisher):
    event_id = "evt_" + "\U0001f600" * 200  # 204 characters, 804 bytes
    body = stripe_body(event_id, "charge.succeeded")
    response = await client.post(URL, content=body, headers={
        "content-type": "application/json", "stripe-signature": sign(body),
        "x-request-id": "req-long-id"})
    assert response.json() == {"status": "dead_lettered", "event_id": None,
                               "reason": "event_id_too_long"}
    ((topic, key, value, _),) = publisher.records
    assert (topic, key, value) == (WEBHOOKS_DLQ, b"request:req-long-id", body)


async def test_an_event_type_too_long_for_a_header_is_dead_lettered(client, publisher):
    body = stripe_body("evt_long_type", "charge." + "\u00e9" * 200)
    response = await client.post(URL, content=body, headers={
        "content-type": "application/json", "stripe-signature": sign(body)})
    assert response.json()["reason"] == "event_type_too_long"
    ((topic, key, _, _),) = publisher.records
    assert (topic, key) == (WEBHOOKS_DLQ, b"evt_long_type")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_id=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=255),
       event_type=st.sampled_from(["charge.", "refund.", "customer."]).flatmap(
           lambda prefix: st.text(st.characters(exclude_categories=["Cs"]), max_size=248).map(
               lambda rest: prefix + rest)))
async def test_any_authentic_id_and_type_fit_the_budget(client, publisher, event_id,
                                                        event_type):
    publisher.records.clear()
    body = stripe_body(event_id, event_type)
    response = await client.post(URL, content=body, headers={
        "content-type": "application/json", "stripe-signature": sign(body)})
    assert response.status_code == 200, response.text  # MemoryPublisher checked the budget
    assert len(publisher.records) == 1


async def test_the_largest_invalid_body_makes_a_dead_letter_that_fits(publisher):
    import httpx

    from gateway.app import create_app

    app = create_app(GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING"),
                     publisher=publisher)
    event_id = "e" * MAX_EVENT_ID_BYTES
    body = stripe_body(event_id, "customer." + "\u00e9" * 100)
    body = stripe_body(event_id, "customer." + "\u00e9" * 100, MAX_VALUE_BYTES - len(body))
    assert len(body) == MAX_VALUE_BYTES
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post(URL, content=body, headers={
            "content-type": "application/json", "stripe-signature": sign(body),
            "x-request-id": "r" * MAX_REQUEST_ID_BYTES})
        too_big = await client.post(URL, content=body + b" ", headers={
            "content-type": "application/json", "stripe-signature": sign(body + b" ")})
    assert response.json()["status"] == "dead_lettered"
    ((topic, key, value, headers),) = publisher.records  # within budget, or it had raised
    assert (topic, key, value) == (WEBHOOKS_DLQ, event_id.encode(), body)
    assert (too_big.status_code, too_big.json()["reason"]) == (413, "body_too_large")


async def test_an_adyen_item_that_grows_past_a_record_is_refused_alone(settings_, publisher):
    import httpx

    from gateway.app import create_app

    good, big = adyen_items()[:2]
    # Unsigned numbers: "1e15" (4 bytes) re-serializes as "1000000000000000.0" (18).
    big["additionalData"]["n"] = orjson.Fragment(b"[" + b",".join([b"1e15"] * 200_000) + b"]")
    body = adyen_batch(good, sign_item(big))
    assert len(body) <= MAX_VALUE_BYTES
    app = create_app(settings_, publisher=publisher)
    headers = {"content-type": "application/json", "authorization": basic_auth()}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post("/webhooks/adyen", content=body, headers=headers)
        alone = await client.post("/webhooks/adyen", content=adyen_batch(big), headers=headers)
    assert (response.status_code, response.text) == (200, "[accepted]")
    assert [(t, v) for t, _, v, _ in publisher.records] == [
        (ADYEN_NOTIFICATION, orjson.dumps(good, option=orjson.OPT_SORT_KEYS))]
    assert (alone.status_code, alone.json()["reason"]) == (413, "item_too_large")


async def test_the_largest_body_is_accepted_as_a_record_that_fits(publisher):
    import httpx

    from gateway.app import create_app

    app = create_app(GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING"),
                     publisher=publisher)
    body = stripe_body("evt_largest", "charge.succeeded")
    body = stripe_body("evt_largest", "charge.succeeded", MAX_VALUE_BYTES - len(body))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post(URL, content=body, headers={
            "content-type": "application/json", "stripe-signature": sign(body),
            "x-request-id": "r" * MAX_REQUEST_ID_BYTES})
    assert response.json() == {"status": "accepted", "event_id": "evt_largest"}
    ((topic, _, value, _),) = publisher.records
    assert (topic, value) == (STRIPE_CHARGE, body)
