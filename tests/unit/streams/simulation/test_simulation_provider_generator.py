"""The simulator's Adyen, Braintree and Square events: accepted by the gateway's own verifiers,
keyed as the gateway keys them, and mapped (or dead-lettered) the way they claim."""

from __future__ import annotations

import collections
from datetime import UTC, datetime

import pytest

from contracts.providers import CREDENTIAL_SETTINGS
from gateway.providers import InvalidItem, VerifiedEvent
from gateway.providers.adyen import AdyenProvider
from gateway.providers.braintree import BraintreeProvider
from gateway.providers.square import SquareProvider
from streams.providers.adyen import map_adyen_record
from streams.providers.braintree import map_braintree_record
from streams.providers.square import map_square_record
from streams.rules import InvalidEventError
from streams.simulation.generator import SimulatorMix
from streams.simulation.provider_generator import generate_provider_events
from streams.simulation.signing import ProviderKeys, SigningSettings
from streams.simulation.simulate import provider_keys, provider_url

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = ProviderKeys(adyen_hmac_key="00112233445566778899AABBCCDDEEFF", adyen_username="sim",
                    adyen_password="sim-pass", braintree_public_key="sim_public",
                    braintree_private_key="sim_private", square_signature_key="sim-square",
                    square_notification_url="https://sim.test/webhooks/square")
VERIFIERS = {
    "adyen": AdyenProvider(KEYS.adyen_hmac_key, KEYS.adyen_username, KEYS.adyen_password),
    "braintree": BraintreeProvider("sim_merchant", KEYS.braintree_public_key,
                                   KEYS.braintree_private_key),
    "square": SquareProvider(KEYS.square_signature_key, KEYS.square_notification_url),
}
MAPPERS = {"adyen": map_adyen_record, "braintree": map_braintree_record,
           "square": map_square_record}
TOPIC_KINDS = {"webhooks.adyen.notification": "adyen",
               "webhooks.braintree.notification": "braintree",
               "webhooks.square.payment": "square_payment",
               "webhooks.square.refund": "square_refund"}
MIX = SimulatorMix(failure_ratio=0.2, duplicate_ratio=0.1, invalid_ratio=0.15)


@pytest.mark.parametrize("provider", sorted(VERIFIERS))
def test_events_pass_the_gateway_and_map_as_they_claim(provider):
    outcomes = collections.Counter()
    for event in generate_provider_events(provider, 150, seed=3, mix=MIX, keys=KEYS):
        headers = {k.lower(): v for k, v in event.http_headers.items()}
        [verified] = VERIFIERS[provider].verify(event.http_body, headers)
        assert isinstance(verified, VerifiedEvent | InvalidItem)
        assert (verified.event_id, verified.value) == (event.key, event.value)
        if isinstance(verified, VerifiedEvent):
            assert TOPIC_KINDS[verified.topic] == event.topic_kind
        try:
            MAPPERS[provider](event.key.encode(), event.value, NOW)
            outcomes[(event.kind, "ok")] += 1
        except InvalidEventError:
            outcomes[(event.kind, "invalid")] += 1
    assert set(outcomes) == {("valid", "ok"), ("duplicate", "ok"), ("invalid", "invalid")}


@pytest.mark.parametrize("provider", sorted(VERIFIERS))
def test_same_seed_same_events_and_duplicates_repeat_exactly(provider):
    first = list(generate_provider_events(provider, 80, seed=9, mix=MIX, keys=KEYS))
    assert first == list(generate_provider_events(provider, 80, seed=9, mix=MIX, keys=KEYS))
    valid = {(e.key, e.value) for e in first if e.kind == "valid"}
    duplicates = [e for e in first if e.kind == "duplicate"]
    assert duplicates and all((d.key, d.value) in valid for d in duplicates)


@pytest.mark.parametrize(("target", "url"), [
    ("http://127.0.0.1:8000/webhooks/stripe", "http://127.0.0.1:8000/webhooks/adyen"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/webhooks/adyen"),
    ("http://gw/hooks/{provider}/in", "http://gw/hooks/adyen/in"),
])
def test_provider_url(target, url):
    assert provider_url(target, "adyen") == url


def test_an_http_target_needs_the_gateway_settings_named(monkeypatch):
    for name in SigningSettings.model_fields:
        monkeypatch.delenv(name, raising=False)
    signing = SigningSettings(ADYEN_HMAC_KEY="00FF")
    # Named as the gateway's settings are, so the message says what to set.
    with pytest.raises(SystemExit, match="ADYEN_BASIC_AUTH_USERNAME.*BRAINTREE_PRIVATE_KEY"):
        provider_keys(signing, for_gateway=True)
    assert provider_keys(signing, for_gateway=False).adyen_hmac_key == "00FF"


def test_the_simulator_reads_the_credentials_the_gateway_is_configured_with():
    gateway_names = {name for names in CREDENTIAL_SETTINGS.values() for name in names}
    assert set(SigningSettings.model_fields) <= gateway_names
