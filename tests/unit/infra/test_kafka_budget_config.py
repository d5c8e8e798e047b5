"""The broker and the topics are configured from the one record budget (contracts/limits.py)."""

from __future__ import annotations

from pathlib import Path

from aiokafka.admin.config_resource import ConfigResourceType

from contracts.limits import MAX_RECORD_BYTES
from infra.kafka_server import kafka_server_properties
from infra.topics import CLUSTER_DEFAULT, IncrementalAlterConfigsRequest, budget_configs


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines()
                if line and not line.startswith("#"))


def test_the_rendered_broker_config_sets_message_max_bytes_explicitly(tmp_path: Path):
    rendered = properties(kafka_server_properties(tmp_path / "data"))
    assert rendered["message.max.bytes"] == str(MAX_RECORD_BYTES)
    assert rendered["log.dirs"] == str(tmp_path / "data")
    assert "${" not in "".join(rendered.values())


def test_every_topic_is_created_and_kept_at_the_budget():
    assert budget_configs() == {"max.message.bytes": str(MAX_RECORD_BYTES)}


def test_the_incremental_alter_request_is_kafkas_v0_wire_format():
    request = IncrementalAlterConfigsRequest([
        (ConfigResourceType.BROKER, CLUSTER_DEFAULT, {"message.max.bytes": "1048576"}),
        (ConfigResourceType.TOPIC, "t", {"max.message.bytes": "1048576"}),
    ]).prepare({44: (0, 1)})
    assert request.API_VERSION == 0
    # resources: [int8 type, string name, [string name, int8 op (0 = SET), string value]],
    # then validate_only; strings are int16-length prefixed (KIP-339's v0 schema).
    assert request.encode() == (
        b"\x00\x00\x00\x02"
        b"\x04" b"\x00\x00" b"\x00\x00\x00\x01"
        b"\x00\x11message.max.bytes" b"\x00" b"\x00\x071048576"
        b"\x02" b"\x00\x01t" b"\x00\x00\x00\x01"
        b"\x00\x11max.message.bytes" b"\x00" b"\x00\x071048576"
        b"\x00"
    )
