"""The cluster's shape from STACK_KAFKA_BROKERS: ports, quorum, replicas, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka_cluster import (
    ClusterConfigError,
    bootstrap,
    broker_count,
    cluster_nodes,
    quorum_voters,
    replication,
)
from infra.kafka_server import kafka_server_properties
from infra.topics import budget_configs


@pytest.mark.parametrize("raw", ["0", "6", "three", ""])
def test_a_bad_broker_count_is_refused_naming_the_setting(raw):
    with pytest.raises(ClusterConfigError, match="STACK_KAFKA_BROKERS"):
        broker_count({"STACK_KAFKA_BROKERS": raw})


def test_one_broker_is_the_default_and_keeps_the_proxied_ports():
    [node] = cluster_nodes(broker_count({}), 9092, 9093)
    assert (node.name, node.port, node.controller_port, node.proxied) == ("kafka", 9092, 9093,
                                                                          True)
    assert replication(1).factor == 1 and budget_configs(replication(1)).keys() == {
        "max.message.bytes"}


def test_three_brokers_on_consecutive_ports_with_three_replicas_two_in_sync():
    nodes = cluster_nodes(3, 9092, 9093, 9292)
    assert [(n.name, n.port, n.controller_port, n.proxied) for n in nodes] == [
        ("kafka", 9092, 9292, False), ("kafka-2", 9093, 9293, False),
        ("kafka-3", 9094, 9294, False)]
    assert bootstrap(nodes) == "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
    assert quorum_voters(nodes) == "1@127.0.0.1:9292,2@127.0.0.1:9293,3@127.0.0.1:9294"
    assert (replication(3).factor, replication(3).min_insync) == (3, 2)
    assert budget_configs(replication(3))["min.insync.replicas"] == "2"

    rendered = kafka_server_properties(Path("/data"), nodes[2], nodes)
    assert "node.id=3\n" in rendered
    assert "listeners=CLIENT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9294\n" in rendered
    assert "inter.broker.listener.name=CLIENT\n" in rendered
    assert "VIA_" not in rendered.split("listeners=", 1)[1]
    for line in ("offsets.topic.replication.factor=3", "transaction.state.log.min.isr=2",
                 "default.replication.factor=3", "min.insync.replicas=2"):
        assert f"\n{line}\n" in rendered
    assert "${" not in rendered


def test_the_single_broker_renders_as_before():
    rendered = kafka_server_properties(Path("/data"))
    assert "node.id=1\n" in rendered and "controller.quorum.voters=1@127.0.0.1:9093" in rendered
    assert "VIA_GATEWAY" in rendered and "min.insync.replicas=1\n" in rendered
