"""Settings: a missing or empty secret stops startup naming STRIPE_WEBHOOK_SECRET."""

from __future__ import annotations

import pytest
from gateway_support import ROTATED_SECRET, SECRET

from contracts.limits import MAX_VALUE_BYTES
from gateway.settings import GatewayConfigError, GatewaySettings, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("STRIPE_WEBHOOK_SECRET", "KAFKA_BOOTSTRAP_SERVERS", "GATEWAY_MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("value", [None, "", "   ", ",", f"{SECRET},,{ROTATED_SECRET}",
                                   "changeme"])
def test_missing_or_empty_secret_names_the_setting(monkeypatch, value):
    if value is not None:
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", value)
    with pytest.raises(GatewayConfigError) as caught:
        load_settings()
    assert "STRIPE_WEBHOOK_SECRET" in str(caught.value)
    assert caught.value.code != 0


def test_secrets_split_on_commas_and_defaults_apply(monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", f" {SECRET} , {ROTATED_SECRET} ")
    monkeypatch.setenv("GATEWAY_SIGNATURE_TOLERANCE_SECONDS", "120")
    settings = load_settings()
    assert settings.provider("stripe").secrets == (SECRET, ROTATED_SECRET)
    assert settings.KAFKA_BOOTSTRAP_SERVERS == "127.0.0.1:9092"
    assert settings.SIGNATURE_TOLERANCE_SECONDS == 120
    # The body limit is the record budget's value size: a body accepted is a record stored.
    assert settings.MAX_BODY_BYTES == MAX_VALUE_BYTES
    # aiokafka batches behind its one in-flight request; a linger would only add latency.
    assert settings.LINGER_MS == 0


def test_adyen_takes_at_most_100_items_per_request_by_default():
    from gateway.providers.adyen import Settings

    assert Settings.model_fields["ADYEN_MAX_ITEMS"].default == 100


def test_a_body_limit_may_be_lowered(monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "65536")
    assert load_settings().MAX_BODY_BYTES == 65536


@pytest.mark.parametrize("value", [str(MAX_VALUE_BYTES + 1), str(1024 * 1024)])
def test_a_body_limit_above_the_record_budget_stops_startup_naming_it(monkeypatch, value):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", value)
    with pytest.raises(GatewayConfigError, match="GATEWAY_MAX_BODY_BYTES"):
        load_settings()


def test_broker_address_comes_from_kafka_bootstrap_servers(monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    assert GatewaySettings().KAFKA_BOOTSTRAP_SERVERS == "127.0.0.1:19092"


def test_the_env_example_secret_is_refused_as_a_placeholder():
    from pathlib import Path

    import pytest

    from gateway.settings import GatewayConfigError, load_settings

    example = Path(__file__).resolve().parents[3] / ".env.example"
    secret = next(line.split("=", 1)[1] for line in example.read_text().splitlines()
                  if line.startswith("STRIPE_WEBHOOK_SECRET="))
    with pytest.raises(GatewayConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_settings(STRIPE_WEBHOOK_SECRET=secret)
