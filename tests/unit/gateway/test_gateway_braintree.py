"""Braintree: the SDK verifies the form body; the key is kind, subject id and timestamp."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlencode

import pytest
from gateway_support import SECRET
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from provider_support import (
    BRAINTREE_PRIVATE,
    PROVIDER_SETTINGS,
    braintree_form,
    braintree_gateway,
    read_fixture,
)

from contracts.topics import BRAINTREE_NOTIFICATION, WEBHOOKS_DLQ
from gateway.settings import GatewayConfigError, GatewaySettings, load_settings

URL = "/webhooks/braintree"
FORM = {"content-type": "application/x-www-form-urlencoded"}
STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           **PROVIDER_SETTINGS)


def form_fields(body: bytes) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(body.decode()).items()}


async def test_sdk_sample_is_published_with_the_body_as_value(client, publisher):
    body = braintree_form("transaction_settled", "txn_unit_1")
    response = await client.post(URL, content=body, headers={**FORM, "x-request-id": "r-bt"})
    assert response.status_code == 200, response.text
    ((topic, key, value, headers),) = publisher.records
    assert (topic, value) == (BRAINTREE_NOTIFICATION, body)
    assert re.fullmatch(rf"transaction_settled:txn_unit_1:{STAMP}", key.decode())
    assert response.json() == {"status": "accepted", "event_id": key.decode()}
    header_map = dict(headers)
    assert header_map["provider"] == b"braintree"
    assert header_map["event_type"] == b"transaction_settled"
    assert header_map["request_id"] == b"r-bt"
    # The value re-verifies with the SDK: what the normalizer can re-check.
    fields = form_fields(value)
    notification = braintree_gateway().webhook_notification.parse(fields["bt_signature"],
                                                                  fields["bt_payload"])
    assert notification.transaction.id == "txn_unit_1"


@pytest.mark.parametrize(("name", "kind", "subject_id"), [
    ("transaction_settled", "transaction_settled", "txn_fixture_0001"),
    ("dispute_opened", "dispute_opened", "dispute_fixture_0001"),
])
async def test_recorded_fixtures_verify(client, publisher, name, kind, subject_id):
    body = read_fixture(f"braintree/{name}.form")
    assert (await client.post(URL, content=body, headers=FORM)).status_code == 200
    ((_, key, _, _),) = publisher.records
    assert re.fullmatch(rf"{kind}:{subject_id}:{STAMP}", key.decode())


async def test_subject_without_an_id_is_keyed_by_payload_digest(client, publisher):
    body = braintree_form("check", "ignored")
    assert (await client.post(URL, content=body, headers=FORM)).status_code == 200
    ((_, key, _, _),) = publisher.records
    assert re.fullmatch(rf"check:sha256:[0-9a-f]{{16}}:{STAMP}", key.decode())


def tampered_payload(body: bytes) -> bytes:
    fields = form_fields(body)
    payload = fields["bt_payload"]
    fields["bt_payload"] = ("B" if payload[0] != "B" else "C") + payload[1:]
    return urlencode(fields).encode()


@pytest.mark.parametrize(("make_body", "reason"), [
    (lambda: braintree_form("transaction_settled", "t", private_key="someone_else"),
     "signature_mismatch"),
    (lambda: braintree_form("transaction_settled", "t", public_key="other_public"),
     "signature_mismatch"),
    (lambda: tampered_payload(braintree_form("transaction_settled", "t")),
     "signature_mismatch"),
    (lambda: urlencode({"bt_payload": form_fields(braintree_form("check", "x"))["bt_payload"]}
                       ).encode(), "signature_missing"),
    (lambda: urlencode({"bt_signature": "pipeline_public_key|abc"}).encode(),
     "signature_missing"),
    (lambda: urlencode({"bt_signature": "pipeline_public_key|a|b", "bt_payload": "QQ=="}
                       ).encode(), "signature_malformed"),
    (lambda: urlencode({"bt_signature": "pipeline_public_key|abc", "bt_payload": "<xml/>"}
                       ).encode(), "signature_mismatch"),
    (lambda: b"bt_signature=a&bt_signature=b&bt_payload=QQ==", "signature_malformed"),
    (lambda: b"\xff\xfe", "body_not_form"),
    (lambda: b"just words", "body_not_form"),
])
async def test_bad_signatures_are_400_and_write_nothing(client, publisher, make_body, reason):
    response = await client.post(URL, content=make_body(), headers=FORM)
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert BRAINTREE_PRIVATE not in response.text
    assert publisher.records == []


async def test_signed_payload_that_is_not_a_notification_is_dead_lettered(client, publisher):
    from braintree.util.crypto import Crypto

    payload = base64.encodebytes(b"<notification><kind>x</kind></notification>")
    signature = f"pipeline_public_key|{Crypto.sha1_hmac_hash(BRAINTREE_PRIVATE, payload)}"
    body = urlencode({"bt_signature": signature, "bt_payload": payload}).encode()
    response = await client.post(URL, content=body, headers=FORM)
    assert (response.status_code, response.json()["status"]) == (200, "dead_lettered")
    ((topic, _, value, headers),) = publisher.records
    assert (topic, value) == (WEBHOOKS_DLQ, body)
    assert dict(headers)["reason"] == b"invalid_structure"


async def test_json_content_type_is_415(client, publisher):
    body = braintree_form("transaction_settled", "t")
    response = await client.post(URL, content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["reason"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize("missing", ["BRAINTREE_MERCHANT_ID", "BRAINTREE_PUBLIC_KEY",
                                     "BRAINTREE_PRIVATE_KEY"])
def test_enabled_braintree_without_its_settings_stops_startup(monkeypatch, missing):
    for name in PROVIDER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    overrides = {k: v for k, v in PROVIDER_SETTINGS.items()
                 if k.startswith("BRAINTREE_") and k != missing}
    with pytest.raises(GatewayConfigError) as caught:
        load_settings(PROVIDERS="braintree", **overrides)
    assert missing in str(caught.value)


XML_SNIPPETS = st.sampled_from([
    "<notification><kind>transaction_settled</kind></notification>",
    "<notification><timestamp type=\"datetime\">2024-01-01T00:00:00Z</timestamp>"
    "<kind>check</kind><subject><check type=\"boolean\">true</check></subject></notification>",
    "<notification><timestamp>yesterday</timestamp><kind>k</kind><subject/></notification>",
    "<notification><timestamp type=\"datetime\">nope</timestamp></notification>",
    "<notification><kind><a>1</a></kind><subject><transaction><id>t</id></transaction>"
    "</subject><timestamp type=\"datetime\">2024-01-01T00:00:00Z</timestamp></notification>",
    "<other/>", "", "<<<", "plain text",
])


@st.composite
def signed_bodies(draw):
    """Payloads signed with the right key: everything after the signature check runs."""
    from braintree.util.crypto import Crypto

    text = draw(st.one_of(XML_SNIPPETS, st.text(max_size=80)))
    payload = base64.encodebytes(text.encode())
    signature = f"pipeline_public_key|{Crypto.sha1_hmac_hash(BRAINTREE_PRIVATE, payload)}"
    return urlencode({"bt_signature": signature, "bt_payload": payload}).encode()


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=256), signed_bodies(),
    st.dictionaries(st.sampled_from(["bt_signature", "bt_payload", "x"]), st.text(max_size=40),
                    max_size=3).map(lambda fields: urlencode(fields).encode()),
    st.tuples(st.integers(0, 1500), st.binary(min_size=1, max_size=3)).map(
        lambda t: FIXTURE_FORM[:t[0]] + t[1] + FIXTURE_FORM[t[0]:])))
async def test_no_request_gets_a_5xx(client, body):
    response = await client.post(URL, content=body, headers=FORM)
    assert response.status_code in {200, 400}, response.text
    assert response.json()["status" if response.status_code == 200 else "reason"]


FIXTURE_FORM = read_fixture("braintree/transaction_settled.form")
