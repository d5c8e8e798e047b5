"""Each Kafka client reads its own principal's sign-in, and a bad one stops it at startup
naming the setting: the gateway (GATEWAY_), the faust apps (STREAMS_NORMALIZER_,
STREAMS_STARTER_), replay (the operator's KAFKA_SASL_*) and review show (REVIEWER_)."""

from __future__ import annotations

import os
import secrets

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from infra.kafka_principals import PRINCIPALS
from orchestration.replay_settings import ReplaySettings, ReviewKafkaSettings
from streams.settings import StreamsSettings

PASSWORD = "a-generated-password-of-32-chars"
DSN = f"postgresql://payments_reader:{PASSWORD}@127.0.0.1:55432/payments"


@pytest.fixture(autouse=True)
def no_sign_in(monkeypatch):
    """tests/conftest.py signs every client in as the stack's operator; not here."""
    for name in [n for n in os.environ if "KAFKA_SASL_" in n]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + secrets.token_hex(24))
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", DSN)
    return monkeypatch


def sign_in(monkeypatch, prefix: str, name: str) -> None:
    for setting, value in (("MECHANISM", "SCRAM-SHA-512"), ("USERNAME", name),
                           ("PASSWORD", PASSWORD)):
        monkeypatch.setenv(f"{prefix}KAFKA_SASL_{setting}", value)


def test_each_client_signs_in_as_its_own_principal(no_sign_in):
    for who in PRINCIPALS:
        sign_in(no_sign_in, who.prefix, who.name)
    assert GatewaySettings().kafka_auth().username == "gateway"
    streams = StreamsSettings()
    assert [streams.kafka_auth(app).username for app in ("NORMALIZER", "STARTER", "SIMULATOR")
            ] == ["normalizer", "starter", "operator"]
    assert ReplaySettings().kafka_auth().username == "operator"
    assert ReviewKafkaSettings().kafka_auth().username == "reviewer"


def test_faust_gets_the_apps_credentials():
    options = StreamsSettings().normalizer_app_options("payments-normalizer")
    assert "broker_credentials" not in options  # no mechanism: no SASL


def test_faust_gets_sasl_credentials_when_signed_in(no_sign_in):
    sign_in(no_sign_in, "STREAMS_NORMALIZER_", "normalizer")
    credentials = StreamsSettings().normalizer_app_options("x")["broker_credentials"]
    assert (credentials.mechanism.value, credentials.username) == ("SCRAM-SHA-512",
                                                                   "normalizer")


@pytest.mark.parametrize(("build", "prefix"), [
    (GatewaySettings, "GATEWAY_"), (StreamsSettings, "STREAMS_STARTER_"),
    (ReplaySettings, ""), (ReviewKafkaSettings, "REVIEWER_")])
def test_a_mechanism_without_a_password_stops_startup_naming_it(no_sign_in, build, prefix):
    no_sign_in.setenv(f"{prefix}KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    no_sign_in.setenv(f"{prefix}KAFKA_SASL_USERNAME", "someone")
    with pytest.raises(ValidationError, match=f"{prefix}KAFKA_SASL_PASSWORD is empty"):
        build()
