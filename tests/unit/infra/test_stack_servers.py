"""The stack lists one server per module, in start order, without starting any."""

from infra.kafka_server import Kafka
from infra.postgres_server import Postgres
from infra.servers import KAFKA_PORT, POSTGRES_PORT, TEMPORAL_PORT
from infra.stack import all_servers
from infra.temporal_server import Temporal


def test_the_stack_is_postgres_then_kafka_then_temporal():
    servers = all_servers()
    assert [type(s) for s in servers] == [Postgres, Kafka, Temporal]
    assert [s.name for s in servers] == ["postgres", "kafka", "temporal"]
    assert [s.ports[0] for s in servers] == [POSTGRES_PORT, KAFKA_PORT, TEMPORAL_PORT]
