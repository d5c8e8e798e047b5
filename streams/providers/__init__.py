"""One module per provider: the pure mapping of its raw-topic records into the PaymentEvent.

``PROVIDER_STREAMS`` is the one table of (provider, raw topics, mapper) the normalizer's agents
can be built from: one agent per raw topic, named ``normalize-<agent>`` and counted under
``<agent>``. A topic is named by the ``StreamsSettings`` field that holds it (its default is
the provider's topic in ``contracts.providers.RAW_TOPICS``), so a deployment can rename it.
Adding a provider is a module here and an entry below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.events import PaymentEvent
from contracts.providers import Provider
from streams.providers.adyen import map_adyen_record
from streams.providers.braintree import map_braintree_record
from streams.providers.square import map_square_record
from streams.providers.stripe import map_stripe_record

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
    provider: Provider
    raw_topics: tuple[RawTopic, ...]
    mapper: Mapper


PROVIDER_STREAMS: tuple[ProviderStreams, ...] = (
    ProviderStreams(Provider.STRIPE, (RawTopic("payment_intent", "TOPIC_PAYMENT_INTENT"),
                                      RawTopic("charge", "TOPIC_CHARGE"),
                                      RawTopic("refund", "TOPIC_REFUND")), map_stripe_record),
    ProviderStreams(Provider.ADYEN, (RawTopic("adyen", "TOPIC_ADYEN"),), map_adyen_record),
    ProviderStreams(Provider.BRAINTREE, (RawTopic("braintree", "TOPIC_BRAINTREE"),),
                    map_braintree_record),
    ProviderStreams(Provider.SQUARE, (RawTopic("square_payment", "TOPIC_SQUARE_PAYMENT"),
                                      RawTopic("square_refund", "TOPIC_SQUARE_REFUND")),
                    map_square_record),
)

__all__ = ["PROVIDER_STREAMS", "Mapper", "ProviderStreams", "RawTopic"]
