"""Every provider's secrets: placeholders and short keys stop startup naming the setting and
the rule; Adyen, Square and Braintree accept a list of keys while one is rotated."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from gateway_support import SECRET
from provider_support import (
    ADYEN_HMAC_KEY,
    BRAINTREE_PRIVATE,
    BRAINTREE_PUBLIC,
    PROVIDER_SETTINGS,
    SQUARE_KEY,
    adyen_batch,
    adyen_items,
    basic_auth,
    braintree_form,
    read_fixture,
    sign_adyen_item,
    square_signature,
)

from gateway.settings import GatewayConfigError, GatewaySettings, load_settings
from streams.simulation.signing import ProviderKeys

ALL = "stripe,adyen,braintree,square"
NEW_ADYEN_KEY = "9F3C2B7A1E6D4058B2C9A7E1F0D3B6C84A2E9F7D1C5B3A0E8D6F4B2A9C7E5D30"
NEW_SQUARE_KEY = "sq_rotated_signature_key_7Hk2"
NEW_BT_PUBLIC, NEW_BT_PRIVATE = "rotated_public_k", "rotated_private_key_for_tests_0002"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in [*PROVIDER_SETTINGS, "STRIPE_WEBHOOK_SECRET"]:
        monkeypatch.delenv(name, raising=False)


def refused(**overrides: str) -> str:
    settings = {**PROVIDER_SETTINGS, "STRIPE_WEBHOOK_SECRET": SECRET, "PROVIDERS": ALL,
                **overrides}
    with pytest.raises(GatewayConfigError) as caught:
        load_settings(**settings)
    assert caught.value.code != 0
    return str(caught.value)


@pytest.mark.parametrize(("setting", "value", "rule"), [
    ("ADYEN_HMAC_KEY", "00", "at least 64 characters"),
    ("ADYEN_HMAC_KEY", "00" * 32, "placeholder"),
    ("ADYEN_HMAC_KEY", f"{ADYEN_HMAC_KEY},0a1b2c3d", "at least 64 characters"),
    ("ADYEN_HMAC_KEY", "zz" * 32, "hex"),
    ("ADYEN_HMAC_KEY", f"{ADYEN_HMAC_KEY},{ADYEN_HMAC_KEY}", "twice"),
    ("ADYEN_BASIC_AUTH_PASSWORD", "hunter2", "at least 16 characters"),
    ("ADYEN_BASIC_AUTH_PASSWORD", "changeme", "placeholder"),
    ("ADYEN_BASIC_AUTH_PASSWORD", "aaaaaaaaaaaaaaaaaaaa", "placeholder"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_short", "at least 38 characters"),
    ("STRIPE_WEBHOOK_SECRET", f"{SECRET},whsec_short", "at least 38 characters"),
    ("STRIPE_WEBHOOK_SECRET", "sk_test_" + "a1b2c3d4e5f6" * 4, "starts whsec_"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_" + "x" * 40, "placeholder"),
    ("BRAINTREE_PRIVATE_KEY", "pipeline_private_key", "at least 32 characters"),
    ("BRAINTREE_PRIVATE_KEY", "replace_me_with_the_private_key_now", "placeholder"),
    ("BRAINTREE_PUBLIC_KEY", "pub|lic", "'|'"),
    ("BRAINTREE_PUBLIC_KEY", f"{BRAINTREE_PUBLIC},{NEW_BT_PUBLIC}", "as many keys"),
    ("SQUARE_SIGNATURE_KEY", "short_square_key", "at least 22 characters"),
    ("SQUARE_SIGNATURE_KEY", "todo", "placeholder"),
    ("SQUARE_SIGNATURE_KEY", f"{SQUARE_KEY},,{NEW_SQUARE_KEY}", "empty entry"),
])
def test_weak_or_placeholder_secret_stops_startup_naming_setting_and_rule(setting, value, rule):
    message = refused(**{setting: value})
    assert setting in message and rule in message, message
    assert value not in message  # the rule is named, the secret never echoed


def test_adyen_example_from_the_issue_is_refused():
    assert "ADYEN_HMAC_KEY must be at least 64 characters" in refused(ADYEN_HMAC_KEY="00")


def test_the_env_example_placeholders_are_refused():
    example = Path(__file__).resolve().parents[3] / ".env.example"
    values = dict(line.split("=", 1) for line in example.read_text().splitlines()
                  if "=" in line and not line.startswith("#"))
    assert "placeholder" in refused(STRIPE_WEBHOOK_SECRET=values["STRIPE_WEBHOOK_SECRET"])


@pytest.mark.parametrize("attempt", range(10))
def test_the_local_stacks_generated_secrets_pass(attempt):
    from infra.services import _generated_secrets

    generated = _generated_secrets()
    settings = load_settings(**{k.removeprefix("GATEWAY_"): v for k, v in generated.items()})
    assert settings.enabled_providers == tuple(ALL.split(","))


def test_the_test_keys_pass_and_have_one_definition():
    keys = ProviderKeys()
    assert PROVIDER_SETTINGS["ADYEN_HMAC_KEY"] == keys.adyen_hmac_key
    assert PROVIDER_SETTINGS["BRAINTREE_PRIVATE_KEY"] == keys.braintree_private_key
    assert PROVIDER_SETTINGS["SQUARE_SIGNATURE_KEY"] == keys.square_signature_key
    load_settings(STRIPE_WEBHOOK_SECRET=SECRET, **PROVIDER_SETTINGS)


def test_the_bench_secret_passes():
    from bench.gateway import SECRET as BENCH_SECRET

    load_settings(STRIPE_WEBHOOK_SECRET=BENCH_SECRET)


def test_real_key_shapes_pass():
    load_settings(
        PROVIDERS=ALL,
        STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(32),  # the Stripe CLI's shape
        ADYEN_HMAC_KEY=secrets.token_hex(32).upper(),
        ADYEN_BASIC_AUTH_USERNAME="ws@Company.Example",
        ADYEN_BASIC_AUTH_PASSWORD="x7!Kp2#Lq9$Wm4&Z",
        BRAINTREE_MERCHANT_ID=secrets.token_hex(8), BRAINTREE_PUBLIC_KEY=secrets.token_hex(8),
        BRAINTREE_PRIVATE_KEY=secrets.token_hex(16),
        SQUARE_SIGNATURE_KEY=secrets.token_urlsafe(16),  # 22 characters
        SQUARE_NOTIFICATION_URL="https://payments.example/webhooks/square",
    )


# Rotation: an old and a new key both verify; any other key is refused.

@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(
        STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
        **{**PROVIDER_SETTINGS,
           "ADYEN_HMAC_KEY": f"{ADYEN_HMAC_KEY},{NEW_ADYEN_KEY}",
           "SQUARE_SIGNATURE_KEY": f"{SQUARE_KEY},{NEW_SQUARE_KEY}",
           "BRAINTREE_PUBLIC_KEY": f"{BRAINTREE_PUBLIC},{NEW_BT_PUBLIC}",
           "BRAINTREE_PRIVATE_KEY": f"{BRAINTREE_PRIVATE},{NEW_BT_PRIVATE}"})


OTHER_ADYEN_KEY = secrets.token_hex(32)


@pytest.mark.parametrize(("key", "accepted"), [(ADYEN_HMAC_KEY, True), (NEW_ADYEN_KEY, True),
                                               (OTHER_ADYEN_KEY, False)])
async def test_adyen_accepts_each_listed_hmac_key_and_no_other(client, publisher, key,
                                                               accepted):
    item = sign_adyen_item(adyen_items()[0], key)
    response = await client.post("/webhooks/adyen", content=adyen_batch(item), headers={
        "content-type": "application/json", "authorization": basic_auth()})
    if accepted:
        assert (response.status_code, response.text) == (200, "[accepted]")
        ((_, _, value, _),) = publisher.records
        assert orjson.loads(value) == item
    else:
        assert (response.status_code, response.json()["reason"]) == (400, "signature_mismatch")
        assert publisher.records == []


@pytest.mark.parametrize(("key", "accepted"), [(SQUARE_KEY, True), (NEW_SQUARE_KEY, True),
                                               ("sq_some_other_subscription_key", False)])
async def test_square_accepts_each_listed_signature_key_and_no_other(client, publisher, key,
                                                                     accepted):
    body = read_fixture("square/payment.updated.json")
    response = await client.post("/webhooks/square", content=body, headers={
        "content-type": "application/json",
        "x-square-hmacsha256-signature": square_signature(body, key=key)})
    if accepted:
        assert response.status_code == 200, response.text
        assert len(publisher.records) == 1
    else:
        assert (response.status_code, response.json()["reason"]) == (400, "signature_mismatch")
        assert publisher.records == []


FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(("public", "private", "accepted"), [
    (BRAINTREE_PUBLIC, BRAINTREE_PRIVATE, True),
    (NEW_BT_PUBLIC, NEW_BT_PRIVATE, True),
    (NEW_BT_PUBLIC, BRAINTREE_PRIVATE, False),  # a listed public key, the wrong private key
    ("unlisted_public1", "unlisted_private_key_for_tests_03", False),
])
async def test_braintree_accepts_each_listed_key_pair_and_no_other(client, publisher, public,
                                                                   private, accepted):
    body = braintree_form("transaction_settled", f"txn_{public}", public_key=public,
                          private_key=private)
    response = await client.post("/webhooks/braintree", content=body, headers=FORM)
    if accepted:
        assert (response.status_code, response.json()["status"]) == (200, "accepted")
        assert len(publisher.records) == 1
    else:
        assert (response.status_code, response.json()["reason"]) == (400, "signature_mismatch")
        assert publisher.records == []


async def test_braintree_signature_with_several_pairs_verifies_by_the_listed_one(client,
                                                                                 publisher):
    # Braintree signs with each of the merchant's active keys, pairs joined by "&".
    from braintree.util.crypto import Crypto

    sample = dict(_form_fields(braintree_form("transaction_settled", "txn_multi",
                                              public_key=NEW_BT_PUBLIC,
                                              private_key=NEW_BT_PRIVATE)))
    payload = sample["bt_payload"]
    sample["bt_signature"] = "&".join([
        f"unlisted_public1|{Crypto.sha1_hmac_hash('unlisted_private_key_for_tests_03', payload)}",
        f"{NEW_BT_PUBLIC}|{Crypto.sha1_hmac_hash(NEW_BT_PRIVATE, payload)}"])
    response = await client.post("/webhooks/braintree", content=urlencode(sample).encode(),
                                 headers=FORM)
    assert (response.status_code, response.json()["status"]) == (200, "accepted")


def _form_fields(body: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body.decode(), keep_blank_values=True)
