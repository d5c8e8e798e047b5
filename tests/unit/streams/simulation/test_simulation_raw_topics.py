"""The simulator's raw topics add what the gateway writes: the contract's headers and the key."""

from __future__ import annotations

import faust
import pytest

from contracts.providers import RAW_HEADERS, RAW_TOPICS
from streams import simulator
from streams.simulation.one_event import WRONG_KEYS, pick_event
from streams.simulation.raw_topics import RawWebhookTopic, read_event
from streams.simulation.signing import ProviderKeys
from streams.simulation.simulate import kafka_topic

TYPES = {"stripe": "payment_intent.succeeded", "adyen": "AUTHORISATION",
         "braintree": "transaction_settled", "square": "payment.updated"}


@pytest.fixture
def sent(monkeypatch):
    calls: list[dict] = []

    async def send(self, **kwargs):
        calls.append({"topic": self.get_topic_name(), **kwargs})
        return None

    monkeypatch.setattr(faust.Topic, "send", send)
    return calls


def test_faust_send_gets_a_raw_topic_for_each_contract_raw_topic():
    for provider, names in RAW_TOPICS.items():
        for name in names:
            topic = simulator.app.topic(name)  # what `faust ... send <topic>` does
            assert isinstance(topic, RawWebhookTopic), (provider, name)
            assert simulator.raw_topics[name].get_topic_name() == name
    assert not isinstance(simulator.app.topic("payments.normalized"), RawWebhookTopic)


@pytest.mark.parametrize("provider", list(TYPES))
async def test_a_raw_send_carries_the_contracts_headers_and_the_gateways_key(provider, sent):
    event = pick_event(provider, TYPES[provider], seed=3, keys=ProviderKeys())
    name = kafka_topic(simulator.settings, event["topic_kind"])
    key = None if provider != "braintree" else event["key"]  # Braintree's needs -k
    await simulator.app.topic(name).send(key=key, value=event["value"].decode())

    [call] = sent
    assert call["topic"] == name and call["value"] == event["value"]
    assert call["key"] == event["key"].encode()
    headers = dict(call["headers"])
    assert list(headers) == list(RAW_HEADERS)
    assert headers["provider"] == provider.encode()
    assert headers["event_type"] == TYPES[provider].encode()
    assert headers["received_at"].endswith(b"Z")
    assert headers["request_id"].startswith(b"simulator-")
    assert read_event(provider, event["value"])[0] == TYPES[provider]


async def test_given_headers_and_key_are_kept(sent):
    event = pick_event("stripe", "charge.failed", seed=1, keys=ProviderKeys())
    await simulator.raw_topics["webhooks.stripe.charge"].send(
        key="evt_given", value=event["value"], headers=[("request_id", b"req-9")])
    headers = dict(sent[0]["headers"])
    assert sent[0]["key"] == b"evt_given" and headers["request_id"] == b"req-9"
    assert headers["event_type"] == b"charge.failed"


def test_an_unknown_type_names_the_ones_there_are():
    with pytest.raises(SystemExit, match="payment_intent.succeeded"):
        pick_event("stripe", "no.such.type", seed=1, keys=ProviderKeys())


def test_wrong_keys_differ_from_the_test_keys():
    right = ProviderKeys()
    assert WRONG_KEYS.adyen_hmac_key != right.adyen_hmac_key
    assert WRONG_KEYS.braintree_private_key != right.braintree_private_key
    assert WRONG_KEYS.square_signature_key != right.square_signature_key


def test_the_console_script_maps_to_the_apps_commands():
    assert simulator.SCRIPT_COMMANDS == {"send": "send-event", "generate": "simulate"}
