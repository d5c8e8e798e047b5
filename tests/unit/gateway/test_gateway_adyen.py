"""Adyen: Basic auth, an HMAC per item checked by the SDK, one Kafka record per good item."""

from __future__ import annotations

import orjson
import pytest
from Adyen.util import generate_notification_sig, is_valid_hmac_notification
from gateway_support import SECRET
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from provider_support import (
    ADYEN_HMAC_KEY,
    PROVIDER_SETTINGS,
    adyen_batch,
    adyen_items,
    adyen_signature,
    basic_auth,
    fuzz_strategies,
    read_fixture,
    sign_adyen_item,
)

from contracts.topics import ADYEN_NOTIFICATION, WEBHOOKS_DLQ
from gateway.errors import SignatureError
from gateway.providers import RefusedItem, VerifiedEvent
from gateway.providers.adyen import AdyenProvider
from gateway.settings import GatewayConfigError, GatewaySettings, load_settings

URL = "/webhooks/adyen"
HEADERS = {"content-type": "application/json", "authorization": basic_auth()}
PUBLISHED_SIGNATURE = "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           **PROVIDER_SETTINGS)


def key_of(item: dict) -> bytes:
    return f"{item['pspReference']}:{item['eventCode']}:{item['success']}".encode()


@pytest.fixture
def provider() -> AdyenProvider:
    return AdyenProvider(ADYEN_HMAC_KEY, "u", "p")


def test_published_example_verifies(provider):
    (item,) = adyen_items("adyen/authorisation.json")
    assert item["additionalData"]["hmacSignature"] == PUBLISHED_SIGNATURE
    assert adyen_signature(item) == PUBLISHED_SIGNATURE
    outcome = provider.verify_item({"NotificationRequestItem": item})
    assert outcome.event_id == "7914073381342284:AUTHORISATION:true"


def test_zero_amount_verifies_and_agrees_with_the_sdk(provider):
    item = next(i for i in adyen_items() if i["amount"]["value"] == 0)
    assert adyen_signature(item) == generate_notification_sig(item, ADYEN_HMAC_KEY).decode()
    assert isinstance(provider.verify_item({"NotificationRequestItem": item}), VerifiedEvent)


@hypothesis_settings(max_examples=40, deadline=None)
@given(value=st.integers(0, 100_000_000),
       reference=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"],
                                       exclude_characters=":"), max_size=40),
       original=st.one_of(st.none(), st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789",
                                             min_size=16, max_size=16)),
       success=st.sampled_from(["true", "false"]))
def test_scheme_matches_the_sdk_for_any_item(value, reference, original, success):
    item = {"pspReference": "QFQTPCQ8HXSKGK82", "merchantAccountCode": "Acct",
            "merchantReference": reference, "amount": {"value": value, "currency": "JPY"},
            "eventCode": "CAPTURE", "success": success}
    if original is not None:
        item["originalReference"] = original
    assert adyen_signature(item) == generate_notification_sig(item, ADYEN_HMAC_KEY).decode()
    signed = sign_adyen_item(item)
    outcome = AdyenProvider(ADYEN_HMAC_KEY, "u", "p").verify_item(
        {"NotificationRequestItem": signed})
    assert isinstance(outcome, VerifiedEvent)


async def test_batch_is_one_record_per_item_and_answers_accepted(client, publisher):
    body = read_fixture("adyen/batch.json")
    response = await client.post(URL, content=body, headers={**HEADERS, "x-request-id": "r-1"})
    assert (response.status_code, response.text) == (200, "[accepted]")
    assert response.headers["content-type"] == "text/plain"
    items = adyen_items()
    assert [(topic, key) for topic, key, _, _ in publisher.records] == [
        (ADYEN_NOTIFICATION, key_of(i)) for i in items]
    for (_, _, value, headers), item in zip(publisher.records, items, strict=True):
        assert value == orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        # The item alone still re-verifies with the SDK: what the normalizer can re-check.
        assert is_valid_hmac_notification(orjson.loads(value), ADYEN_HMAC_KEY)
        header_map = dict(headers)
        assert header_map["provider"] == b"adyen"
        assert header_map["event_type"] == item["eventCode"].encode()
        assert header_map["request_id"] == b"r-1"


async def test_tampered_item_is_refused_and_its_siblings_are_kept(client, admin_client,
                                                                  publisher):
    good, tampered, other = adyen_items()
    tampered["amount"]["value"] += 1
    response = await client.post(URL, content=adyen_batch(good, tampered, other),
                                 headers=HEADERS)
    assert (response.status_code, response.text) == (200, "[accepted]")
    assert [key for _, key, _, _ in publisher.records] == [
        key_of(i) for i in (good, other)]
    metrics = (await admin_client.get("/metrics")).text
    assert 'gateway_webhook_items_total{outcome="signature_mismatch",provider="adyen"} 1.0' \
        in metrics
    assert 'gateway_webhook_items_total{outcome="accepted",provider="adyen"} 2.0' in metrics


@pytest.mark.parametrize(("change", "reason"), [
    (lambda item: item["additionalData"].pop("hmacSignature"), "signature_missing"),
    (lambda item: item["additionalData"].update(hmacSignature=""), "signature_missing"),
    (lambda item: item.update(success=True), "signature_malformed"),
    (lambda item: item.pop("amount"), "signature_malformed"),
    (lambda item: item.update(merchantReference="other"), "signature_mismatch"),
])
async def test_request_with_no_authentic_item_is_400_and_writes_nothing(client, publisher,
                                                                        change, reason):
    item = adyen_items()[0]
    change(item)
    response = await client.post(URL, content=adyen_batch(item), headers=HEADERS)
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert publisher.records == []


def test_wrong_key_refuses_every_item():
    provider = AdyenProvider("00" * 32, "u", "p")
    outcomes = [provider.verify_item({"NotificationRequestItem": i}) for i in adyen_items()]
    assert all(isinstance(o, RefusedItem) and o.reason == "signature_mismatch"
               for o in outcomes)
    with pytest.raises(SignatureError):
        provider.verify(read_fixture("adyen/batch.json"), {"authorization": basic_auth("u", "p")})


async def test_authentic_item_without_psp_reference_is_dead_lettered_alone(client, publisher):
    good = adyen_items()[0]
    invalid = sign_adyen_item({**adyen_items()[1], "pspReference": ""})
    response = await client.post(URL, content=adyen_batch(invalid, good), headers=HEADERS)
    assert (response.status_code, response.text) == (200, "[accepted]")
    (dlq, accepted) = publisher.records
    assert (dlq[0], accepted[0]) == (WEBHOOKS_DLQ, ADYEN_NOTIFICATION)
    assert dlq[2] == orjson.dumps(invalid, option=orjson.OPT_SORT_KEYS)
    assert dict(dlq[3])["reason"] == b"invalid_structure"
    assert "event_id" not in dict(dlq[3])


def test_a_changed_outcome_is_a_new_event_and_a_redelivery_is_not(provider):
    item = adyen_items()[0]
    flipped = sign_adyen_item({**item, "success": "false", "additionalData": {}})
    ids = [provider.verify_item({"NotificationRequestItem": i}).event_id
           for i in (item, dict(item), flipped)]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize("success", [None, "yes", ""])
def test_authentic_item_with_an_odd_success_is_dead_lettered(provider, success):
    item = {k: v for k, v in adyen_items()[0].items() if k != "success"}
    if success is not None:
        item["success"] = success
    outcome = provider.verify_item({"NotificationRequestItem": sign_adyen_item(item)})
    assert (type(outcome).__name__, outcome.reason) == ("InvalidItem", "invalid_structure")


@pytest.mark.parametrize("authorization", [None, basic_auth(password="wrong"),
                                           basic_auth(user="intruder"), "Basic !!!",
                                           "Bearer abc"])
async def test_basic_auth_failure_is_401_json(client, publisher, authorization):
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization
    response = await client.post(URL, content=read_fixture("adyen/batch.json"), headers=headers)
    assert (response.status_code, response.json()["reason"]) == (401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "adyen-ws-password" not in response.text
    assert publisher.records == []


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b"not json", 400, "body_not_json"),
    (b'{"live": "false"}', 400, "invalid_structure"),
    (b'{"notificationItems": []}', 400, "invalid_structure"),
    (b'{"notificationItems": [1, {"x": 2}]}', 400, "item_malformed"),
])
async def test_unusable_bodies_are_4xx(client, publisher, body, status, reason):
    response = await client.post(URL, content=body, headers=HEADERS)
    assert (response.status_code, response.json()["reason"]) == (status, reason)
    assert publisher.records == []


async def test_broker_down_is_503_for_the_whole_batch(client, publisher):
    publisher.unavailable = True
    response = await client.post(URL, content=read_fixture("adyen/batch.json"), headers=HEADERS)
    assert (response.status_code, response.json()["reason"]) == (503, "kafka_unavailable")
    assert response.text != "[accepted]"


async def test_form_content_type_is_415(client):
    response = await client.post(URL, content=read_fixture("adyen/batch.json"),
                                 headers={**HEADERS, "content-type": "text/plain"})
    assert response.status_code == 415


@pytest.mark.parametrize(("missing", "value"), [
    ("ADYEN_HMAC_KEY", None), ("ADYEN_HMAC_KEY", "not-hex"), ("ADYEN_HMAC_KEY", "abc"),
    ("ADYEN_BASIC_AUTH_USERNAME", None), ("ADYEN_BASIC_AUTH_PASSWORD", "  "),
    ("ADYEN_BASIC_AUTH_PASSWORD", "changeme"),
])
def test_enabled_adyen_without_its_settings_stops_startup(monkeypatch, missing, value):
    for name in PROVIDER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    overrides = {k: v for k, v in PROVIDER_SETTINGS.items() if k.startswith("ADYEN_")}
    overrides.pop(missing)
    if value is not None:
        overrides[missing] = value
    with pytest.raises(GatewayConfigError) as caught:
        load_settings(PROVIDERS="adyen", **overrides)
    assert missing in str(caught.value)


def test_providers_default_to_stripe_and_refuse_unknown_names(monkeypatch):
    monkeypatch.delenv("GATEWAY_PROVIDERS", raising=False)
    assert load_settings(STRIPE_WEBHOOK_SECRET=SECRET).enabled_providers == ("stripe",)
    for value in ("stripe,paypal", "stripe,,adyen", "stripe,stripe"):
        with pytest.raises(GatewayConfigError) as caught:
            load_settings(STRIPE_WEBHOOK_SECRET=SECRET, PROVIDERS=value)
        assert "GATEWAY_PROVIDERS" in str(caught.value)


def test_stripe_secret_is_not_required_when_stripe_is_disabled(monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    overrides = {k: v for k, v in PROVIDER_SETTINGS.items() if k.startswith("ADYEN_")}
    assert load_settings(PROVIDERS=" Adyen ", **overrides).enabled_providers == ("adyen",)


async def test_disabled_provider_is_404():
    import httpx
    from gateway_support import MemoryPublisher

    from gateway.app import create_app

    app = create_app(GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING"),
                     publisher=MemoryPublisher())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post(URL, content=b"{}", headers=HEADERS)
    assert (response.status_code, response.json()["reason"]) == (404, "unknown_provider")


JSON_VALUES, HEADER_TEXT = fuzz_strategies()
SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode",
                 "merchantReference", "eventCode", "success", "amount", "additionalData")


@st.composite
def fuzzed_items(draw):
    item = draw(st.dictionaries(st.sampled_from(SIGNED_FIELDS), JSON_VALUES, max_size=8))
    if draw(st.booleans()):
        item["amount"] = {"value": draw(st.integers(0, 10**9)),
                          "currency": draw(st.text(max_size=4))}
    if draw(st.booleans()):
        try:  # sign whatever is signable, so the checks after the HMAC get exercised too
            item["additionalData"] = {"hmacSignature": adyen_signature(item)}
        except (AttributeError, TypeError):
            pass
    return draw(st.sampled_from([{"NotificationRequestItem": item}, item]))


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
           st.binary(max_size=256), JSON_VALUES.map(orjson.dumps),
           st.lists(fuzzed_items(), min_size=1, max_size=3).map(
               lambda items: orjson.dumps({"notificationItems": items}))),
       authorization=st.one_of(st.just(basic_auth().encode()), HEADER_TEXT))
async def test_no_request_gets_a_5xx(client, body, authorization):
    response = await client.post(URL, content=body, headers={
        "content-type": "application/json", "authorization": authorization})
    assert response.status_code in {200, 400, 401}, response.text
    if response.status_code == 200:
        assert response.text == "[accepted]"
