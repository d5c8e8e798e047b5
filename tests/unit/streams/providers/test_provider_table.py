"""streams.providers.PROVIDER_STREAMS: every provider once, on its contract topics, and the
same agents (names and topics) the normalizer declares."""

from __future__ import annotations

from contracts.providers import RAW_TOPICS, Provider
from streams import normalizer
from streams.providers import PROVIDER_STREAMS
from streams.settings import StreamsSettings

DEFAULTS = StreamsSettings.model_fields


def test_every_provider_once():
    assert [entry.provider for entry in PROVIDER_STREAMS] == list(Provider)


def test_each_topic_setting_defaults_to_the_providers_contract_topics():
    for entry in PROVIDER_STREAMS:
        defaults = tuple(DEFAULTS[topic.setting].default for topic in entry.raw_topics)
        assert defaults == RAW_TOPICS[entry.provider]


def test_the_table_names_the_normalizers_agents_and_topics():
    declared = [(agent.name, agent.channel.get_topic_name())
                for agent in normalizer.app.agents.values()]
    table = [(topic.agent_name, getattr(normalizer.settings, topic.setting))
             for entry in PROVIDER_STREAMS for topic in entry.raw_topics]
    assert table == declared


def test_the_settings_raw_topics_are_the_tables():
    settings = StreamsSettings()
    assert set(settings.raw_topics) == {getattr(settings, topic.setting)
                                        for entry in PROVIDER_STREAMS
                                        for topic in entry.raw_topics}
