"""One module per provider: the pure mapping of its raw-topic records into the PaymentEvent.

``streams/providers/<name>.py``, for each name in ``contracts.providers.PROVIDER_NAMES``,
defines ``map_record(key, value, processed_at)`` (an alias of its ``map_<name>_record``).
``PROVIDER_STREAMS`` is the one table of (provider, raw topics, mapper) the normalizer's agents
are built from, read from ``contracts.providers`` and those modules: one agent per raw topic,
named ``normalize-<agent>`` and counted under ``<agent>`` (the topic's short name in
``contracts.providers.RAW_TOPIC_NAMES``). A topic is named by the ``StreamsSettings`` field
that holds it (its default is the contract's topic), so a deployment can rename it. Adding a
provider is a module here; nothing in this file changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts import providers as contract
from contracts.events import PaymentEvent
from streams.settings import raw_topic_setting

# (Kafka key, value, processed_at) -> PaymentEvent, or raises InvalidEventError.
Mapper = Callable[[bytes | None, bytes, datetime], PaymentEvent]


@dataclass(frozen=True, slots=True)
class RawTopic:
    """One raw topic, worked by one normalizer agent."""

    agent: str  # the counters' and metrics' label; the agent is named normalize-<agent>
    setting: str  # the StreamsSettings field that names the topic

    @property
    def agent_name(self) -> str:
        return "normalize-" + self.agent.replace("_", "-")


@dataclass(frozen=True, slots=True)
class ProviderStreams:
    provider: str  # a name in contracts.providers.PROVIDER_NAMES
    raw_topics: tuple[RawTopic, ...]
    mapper: Mapper


def provider_streams() -> tuple[ProviderStreams, ...]:
    """Every provider in contracts.providers (as it is when called), with its module's mapper."""
    return tuple(
        ProviderStreams(name,
                        tuple(RawTopic(contract.RAW_TOPIC_NAMES[topic], raw_topic_setting(topic))
                              for topic in contract.RAW_TOPICS[name]),
                        importlib.import_module(f"{__name__}.{name}").map_record)
        for name in contract.PROVIDER_NAMES
    )


PROVIDER_STREAMS: tuple[ProviderStreams, ...] = provider_streams()

__all__ = ["PROVIDER_STREAMS", "Mapper", "ProviderStreams", "RawTopic", "provider_streams"]
