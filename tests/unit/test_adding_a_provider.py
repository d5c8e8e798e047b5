"""Adding a provider is its entry in contracts/providers.py, gateway/providers/<name>.py and
streams/providers/<name>.py (README, "Adding a provider"): nothing else in the product names one.

A fifth provider, put in through those three places only (the contract tables patched, the two
modules standing in ``sys.modules``), is read, required, built and served by the gateway, and
gets its agent and its topic setting in the normalizer's table.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path

import httpx
import pytest

from contracts import providers as contract
from gateway.providers import Credential, ProviderSettings, VerifiedEvent, provider_module
from gateway.settings import GatewayConfigError, load_settings
from streams.providers import ProviderStreams, RawTopic, provider_streams
from streams.settings import _StreamsSettings, with_raw_topics

ROOT = Path(__file__).resolve().parents[2]
NEW, TOPIC, CREDENTIAL = "paypal", "webhooks.paypal.event", "PAYPAL_WEBHOOK_KEY"


def _gateway_setting_names(settings: type[ProviderSettings]) -> dict[str, str]:
    """field -> the environment variable it is read from."""
    return {name: field.validation_alias or f"GATEWAY_{name}"
            for name, field in settings.model_fields.items()}


@pytest.mark.parametrize("name", contract.PROVIDER_NAMES)
def test_every_provider_has_its_two_modules(name):
    gateway = provider_module(name)
    assert issubclass(gateway.Settings, ProviderSettings) and callable(gateway.build)
    assert callable(importlib.import_module(f"streams.providers.{name}").map_record)


@pytest.mark.parametrize("name", contract.PROVIDER_NAMES)
def test_the_credentials_a_module_declares_are_the_contracts(name):
    """Its settings read without the GATEWAY_ prefix are exactly CREDENTIAL_SETTINGS (the
    simulator signs with the same variables); anything else is a GATEWAY_ tuning setting."""
    read_from = _gateway_setting_names(provider_module(name).Settings).values()
    assert {env for env in read_from if not env.startswith("GATEWAY_")} == \
        set(contract.CREDENTIAL_SETTINGS[name])


def test_raw_topic_names_cover_every_raw_topic_and_clash_with_no_setting():
    raw = [topic for name in contract.PROVIDER_NAMES for topic in contract.RAW_TOPICS[name]]
    assert sorted(contract.RAW_TOPIC_NAMES) == sorted(raw)
    settings = {f"TOPIC_{short.upper()}" for short in contract.RAW_TOPIC_NAMES.values()}
    assert len(settings) == len(raw)
    assert not settings & set(_StreamsSettings.model_fields)


def _product_files() -> list[Path]:
    """Service code that must never name one provider's settings: all but the providers' own
    modules and the simulator (the optional extra step: it signs with the credentials and
    writes to the raw topics)."""
    own = {f"{name}.py" for name in contract.PROVIDER_NAMES}
    return [path for package in ("gateway", "streams", "orchestration", "batch", "inference",
                                 "telemetry")
            for path in sorted((ROOT / package).rglob("*.py"))
            if not (path.parent.name == "providers" and path.name in own)
            and path.name != "simulator.py" and path.parent.name != "simulation"]


def test_no_service_module_names_a_providers_settings_outside_its_modules():
    names: set[str] = set()
    for name in contract.PROVIDER_NAMES:
        fields = _gateway_setting_names(provider_module(name).Settings)
        names |= set(fields.values()) | {field for field, env in fields.items()
                                          if env.startswith("GATEWAY_")}
        names |= {f"{prefix}TOPIC_{contract.RAW_TOPIC_NAMES[topic].upper()}"
                  for topic in contract.RAW_TOPICS[name] for prefix in ("", "STREAMS_")}
    pattern = re.compile(r"\b(?:" + "|".join(sorted(names)) + r")\b")
    found = [f"{path.relative_to(ROOT)}:{number}: {match.group()}"
             for path in _product_files()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             for match in pattern.finditer(line)]
    assert not found, f"a provider's setting belongs in its own module: {found}"


class _Publisher:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, topic, key, value, headers) -> None:
        self.records.append((topic, key, value))

    async def check_ready(self) -> str | None:
        return None


def _map_paypal_record(key, value, processed_at):
    raise NotImplementedError


@pytest.fixture
def fifth_provider(monkeypatch):
    """PayPal, through the contract entry and its two modules and nowhere else."""
    monkeypatch.setattr(contract, "PROVIDER_NAMES", (*contract.PROVIDER_NAMES, NEW))
    monkeypatch.setitem(contract.RAW_TOPICS, NEW, (TOPIC,))
    monkeypatch.setitem(contract.RAW_TOPIC_NAMES, TOPIC, NEW)
    monkeypatch.setitem(contract.CREDENTIAL_SETTINGS, NEW, (CREDENTIAL,))
    monkeypatch.delenv(CREDENTIAL, raising=False)

    class Settings(ProviderSettings):
        PAYPAL_WEBHOOK_KEY: Credential = None

    class PaypalProvider:
        name = NEW

        def __init__(self, key: str) -> None:
            self.key = key

        def verify(self, raw, headers):
            return (VerifiedEvent(NEW, "WH-1", "PAYMENT.CAPTURE.COMPLETED", TOPIC, raw),)

    gateway = types.ModuleType(f"gateway.providers.{NEW}")
    gateway.Settings = Settings
    gateway.build = lambda own, settings: PaypalProvider(own.PAYPAL_WEBHOOK_KEY)
    streams = types.ModuleType(f"streams.providers.{NEW}")
    streams.map_record = _map_paypal_record
    monkeypatch.setitem(sys.modules, gateway.__name__, gateway)
    monkeypatch.setitem(sys.modules, streams.__name__, streams)


def test_the_gateway_requires_a_new_providers_credential_by_its_name(fifth_provider):
    with pytest.raises(GatewayConfigError, match=f"{CREDENTIAL} is required because "
                                                 f"GATEWAY_PROVIDERS enables {NEW}"):
        load_settings(PROVIDERS=NEW)


async def test_the_gateway_builds_and_serves_a_new_provider(fifth_provider):
    from gateway.app import create_app

    publisher = _Publisher()
    app = create_app(load_settings(PROVIDERS=NEW, PAYPAL_WEBHOOK_KEY="k", LOG_LEVEL="WARNING"),
                     publisher=publisher)
    assert app.state.providers[NEW].key == "k"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            response = await client.post(f"/webhooks/{NEW}", content=b"{}",
                                         headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert publisher.records == [(TOPIC, b"WH-1", b"{}")]


def test_the_normalizer_table_and_settings_take_a_new_provider(fifth_provider, monkeypatch):
    assert provider_streams()[-1] == ProviderStreams(NEW, (RawTopic(NEW, "TOPIC_PAYPAL"),),
                                                     _map_paypal_record)
    settings = with_raw_topics(_StreamsSettings)
    assert settings(NORMALIZER_PROVIDERS=NEW).TOPIC_PAYPAL == TOPIC
    monkeypatch.setenv("STREAMS_TOPIC_PAYPAL", "renamed.paypal")
    assert settings().raw_topics[-1] == "renamed.paypal"
