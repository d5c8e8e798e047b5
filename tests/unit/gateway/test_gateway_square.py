"""Square: the squareup SDK checks the signature over URL + body; routing is by ``type``."""

from __future__ import annotations

import orjson
import pytest
from gateway_support import SECRET
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from provider_support import (
    PROVIDER_SETTINGS,
    SQUARE_KEY,
    fuzz_strategies,
    read_fixture,
    square_signature,
)
from square.utils.webhooks_helper import verify_signature

from contracts.topics import SQUARE_PAYMENT, SQUARE_REFUND, WEBHOOKS_DLQ
from gateway.providers.square import route_square_event
from gateway.settings import GatewayConfigError, GatewaySettings, load_settings

URL = "/webhooks/square"
JSON = {"content-type": "application/json"}
HEADER = "x-square-hmacsha256-signature"


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           **PROVIDER_SETTINGS)


def signed(body: bytes, **kwargs) -> dict[str, str]:
    return {**JSON, HEADER: square_signature(body, **kwargs)}


@pytest.mark.parametrize(("name", "topic"), [("payment.updated", SQUARE_PAYMENT),
                                             ("refund.created", SQUARE_REFUND)])
async def test_signed_event_lands_on_its_topic_keyed_by_event_id(client, publisher, name,
                                                                 topic):
    body = read_fixture(f"square/{name}.json")
    response = await client.post(URL, content=body,
                                 headers={**signed(body), "x-request-id": "r-sq"})
    assert response.status_code == 200, response.text
    event_id = orjson.loads(body)["event_id"]
    assert response.json() == {"status": "accepted", "event_id": event_id}
    ((record_topic, key, value, headers),) = publisher.records
    assert (record_topic, key, value) == (topic, event_id.encode(), body)
    assert dict(headers)["event_type"] == name.encode()
    assert dict(headers)["provider"] == b"square"


def test_test_signer_agrees_with_the_sdk():
    body = read_fixture("square/payment.updated.json")
    assert verify_signature(request_body=body.decode(), signature_header=square_signature(body),
                            signature_key=SQUARE_KEY,
                            notification_url=PROVIDER_SETTINGS["SQUARE_NOTIFICATION_URL"])


@pytest.mark.parametrize(("headers", "body_change", "reason"), [
    (None, None, "signature_missing"),
    ({HEADER: ""}, None, "signature_missing"),
    (signed(read_fixture("square/payment.updated.json"), key="other_key"), None,
     "signature_mismatch"),
    (signed(read_fixture("square/payment.updated.json"), url="https://gateway.test/other"),
     None, "signature_mismatch"),
    (signed(read_fixture("square/payment.updated.json")),
     lambda body: body.replace(b'"amount": 100', b'"amount": 900', 1), "signature_mismatch"),
    ({HEADER: "not base64 at all"}, None, "signature_mismatch"),
])
async def test_bad_signatures_are_400_and_write_nothing(client, publisher, headers,
                                                        body_change, reason):
    body = read_fixture("square/payment.updated.json")
    if body_change is not None:
        body = body_change(body)
    response = await client.post(URL, content=body, headers={**JSON, **(headers or {})})
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert SQUARE_KEY not in response.text
    assert publisher.records == []


@pytest.mark.parametrize(("body", "reason", "event_id"), [
    (b'{"event_id": "e-1", "type": "dispute.created", "data": {}}', "unknown_event_type", "e-1"),
    (b'{"event_id": "e-2", "type": "payment.created"}', "invalid_structure", "e-2"),
    (b'{"type": "payment.created", "data": {}}', "invalid_structure", None),
])
async def test_authentic_but_unusable_events_are_dead_lettered(client, publisher, body, reason,
                                                               event_id):
    response = await client.post(URL, content=body, headers=signed(body))
    assert (response.status_code, response.json()["status"]) == (200, "dead_lettered")
    ((topic, key, value, headers),) = publisher.records
    assert (topic, value) == (WEBHOOKS_DLQ, body)
    header_map = {name: value.decode() for name, value in headers}
    assert (header_map["reason"], header_map.get("event_id")) == (reason, event_id)
    assert key.decode() == event_id or key.startswith(b"request:")


@pytest.mark.parametrize(("body", "reason"), [(b"not json", "body_not_json"),
                                              (b'{"event_id": "\xff"}', "body_not_utf8")])
async def test_signed_garbage_is_400(client, publisher, body, reason):
    response = await client.post(URL, content=body, headers=signed(body))
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert publisher.records == []


@pytest.mark.parametrize(("event_type", "topic"), [
    ("payment.created", SQUARE_PAYMENT), ("payment.updated", SQUARE_PAYMENT),
    ("refund.created", SQUARE_REFUND), ("refund.updated", SQUARE_REFUND),
    ("dispute.created", None), ("payment", None),
])
def test_routing_table(event_type, topic):
    assert route_square_event(event_type) == topic


@pytest.mark.parametrize(("missing", "value"), [
    ("SQUARE_SIGNATURE_KEY", None), ("SQUARE_NOTIFICATION_URL", None),
    ("SQUARE_NOTIFICATION_URL", "gateway.test/webhooks/square"),
])
def test_enabled_square_without_its_settings_stops_startup(monkeypatch, missing, value):
    for name in PROVIDER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    overrides = {k: v for k, v in PROVIDER_SETTINGS.items()
                 if k.startswith("SQUARE_") and k != missing}
    if value is not None:
        overrides[missing] = value
    with pytest.raises(GatewayConfigError) as caught:
        load_settings(PROVIDERS="square", **overrides)
    assert missing in str(caught.value)


JSON_VALUES, HEADER_TEXT = fuzz_strategies()
FIXTURE_BODY = read_fixture("square/refund.created.json")


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
           st.binary(max_size=256), JSON_VALUES.map(orjson.dumps),
           st.tuples(st.integers(0, 900), st.binary(min_size=1, max_size=3)).map(
               lambda t: FIXTURE_BODY[:t[0]] + t[1] + FIXTURE_BODY[t[0]:])),
       sign_it=st.booleans(), header=HEADER_TEXT)
async def test_no_request_gets_a_5xx(client, body, sign_it, header):
    signature = square_signature(body).encode() if sign_it else header
    response = await client.post(URL, content=body, headers={**JSON, HEADER: signature})
    assert response.status_code in {200, 400}, response.text
    assert response.json()["status" if response.status_code == 200 else "reason"]
