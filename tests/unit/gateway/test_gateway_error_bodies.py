"""Error bodies carry a reason code and plain words, never an exception class's name.

The class stays in the log (an operator needs it); the sender, who may be anyone on the
internet, learns only what it must do.
"""

from __future__ import annotations

import base64
import builtins
import inspect
import logging
import re
from urllib.parse import urlencode

import aiokafka.errors
import braintree.exceptions
import pytest
from gateway_support import SECRET, MemoryPublisher, sign
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from provider_support import BRAINTREE_PRIVATE, BRAINTREE_PUBLIC, PROVIDER_SETTINGS

from gateway.publisher import KafkaPublisher
from gateway.settings import GatewaySettings

KAFKA_ERRORS = sorted(
    (cls for _, cls in inspect.getmembers(aiokafka.errors, inspect.isclass)
     if issubclass(cls, aiokafka.errors.KafkaError)), key=lambda cls: cls.__name__)
# Every exception class name the gateway could meet: Kafka's, the SDKs', Python's own.
CLASS_NAMES = {cls.__name__ for cls in KAFKA_ERRORS} | {
    name for name, cls in inspect.getmembers(braintree.exceptions, inspect.isclass)
    if issubclass(cls, BaseException)} | {
    name for name, cls in vars(builtins).items()
    if isinstance(cls, type) and issubclass(cls, BaseException)}
CLASS_LIKE = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Exc|Timeout|Closed)\b")
REASONS = {"record_too_large", "record_too_large_for_broker", "kafka_timeout",
           "kafka_producer_closed", "kafka_error", "kafka_producer_broken"}


def assert_no_class_name(text: str) -> None:
    named = sorted(name for name in CLASS_NAMES if len(name) > 4 and name in text)
    assert not named, f"{named} in {text}"
    assert not CLASS_LIKE.search(text), text


class FailingPublisher(MemoryPublisher):
    """Fails every write the way KafkaPublisher does for ``error`` (its own _fail)."""

    def __init__(self) -> None:
        super().__init__()
        self.kafka = KafkaPublisher("127.0.0.1:1", publish_timeout=1.0)
        self.error: BaseException = TimeoutError()
        self.delivered = False

    async def publish(self, topic, key, value, headers) -> None:
        # A producer that is not the current one: _fail classifies, never rebuilds it.
        self.kafka._fail(object(), topic, self.error, self.delivered)


@pytest.fixture
def publisher() -> FailingPublisher:
    return FailingPublisher()


def make_error(cls: type[BaseException]) -> BaseException:
    try:
        return cls("broker said no")
    except TypeError:
        return cls()


@hypothesis_settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cls=st.sampled_from([*KAFKA_ERRORS, TimeoutError]), delivered=st.booleans())
async def test_a_failed_kafka_write_answers_a_reason_code_not_a_class(client, publisher, cls,
                                                                      delivered):
    from gateway_support import FIXTURES

    publisher.error, publisher.delivered = make_error(cls), delivered
    body = FIXTURES[0].read_bytes()
    response = await client.post("/webhooks/stripe", content=body, headers={
        "content-type": "application/json", "stripe-signature": sign(body)})
    assert response.status_code in (413, 503), response.text
    assert response.json()["reason"] in REASONS
    assert_no_class_name(response.text)


def test_the_class_still_reaches_the_log(caplog):
    from aiokafka.errors import NotLeaderForPartitionError

    caplog.set_level(logging.WARNING, logger="gateway.publisher")
    kafka = KafkaPublisher("127.0.0.1:1", publish_timeout=1.0)
    with pytest.raises(Exception) as caught:
        kafka._fail(object(), "t", NotLeaderForPartitionError(), True)
    assert "NotLeaderForPartitionError" not in caught.value.detail
    assert any(getattr(r, "error", None) == "NotLeaderForPartitionError"
               for r in caplog.records)


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           **PROVIDER_SETTINGS)


@pytest.mark.parametrize("xml", [b"<notification><kind>x</kind></notification>", b"<<<",
                                 b"<notification><timestamp type=\"datetime\">nope</timestamp>"
                                 b"</notification>"])
def test_a_signed_braintree_payload_that_breaks_the_sdk_names_no_class(xml):
    from braintree.util.crypto import Crypto

    from gateway.errors import InvalidEventError
    from gateway.providers.braintree import BraintreeProvider

    payload = base64.encodebytes(xml)
    body = urlencode({"bt_signature": f"{BRAINTREE_PUBLIC}|"
                                      f"{Crypto.sha1_hmac_hash(BRAINTREE_PRIVATE, payload)}",
                      "bt_payload": payload}).encode()
    provider = BraintreeProvider("pipeline_merchant", BRAINTREE_PUBLIC, BRAINTREE_PRIVATE)
    with pytest.raises(InvalidEventError) as caught:
        provider.verify(body, {})
    assert caught.value.reason == "invalid_structure"
    assert_no_class_name(caught.value.detail)


PATHS = [  # (provider path, content type, body, headers): each a refusal on its own path
    ("/webhooks/stripe", "application/json", b"{}", {"stripe-signature": "t=1,v1=00"}),
    ("/webhooks/stripe", "application/json", b"\xff", {"stripe-signature": "t=x"}),
    ("/webhooks/stripe", "text/plain", b"{}", {}),
    ("/webhooks/adyen", "application/json", b"[]", {"authorization": "Basic !!"}),
    ("/webhooks/braintree", "application/x-www-form-urlencoded", b"bt_signature=a%7Cb%7Cc", {}),
    ("/webhooks/braintree", "application/x-www-form-urlencoded",
     b"bt_signature=k%7Cs&bt_payload=%FF", {}),
    ("/webhooks/square", "application/json", b"{", {"x-square-hmacsha256-signature": "x"}),
    ("/webhooks/nope", "application/json", b"{}", {}),
]


@pytest.mark.parametrize(("path", "media", "body", "headers"), PATHS)
async def test_every_refusal_body_names_a_reason_and_no_class(client, path, media, body,
                                                              headers):
    response = await client.post(path, content=body,
                                 headers={"content-type": media, **headers})
    assert 400 <= response.status_code < 500
    assert response.json()["reason"]
    assert_no_class_name(response.text)
