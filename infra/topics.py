"""Creates the pipeline's topics explicitly (the broker never auto-creates them) and keeps
every one of them, new or old, at the record budget of contracts/limits.py.

``max.message.bytes`` on each topic, and ``message.max.bytes`` as the cluster-wide
default, are set to ``MAX_RECORD_BYTES`` with IncrementalAlterConfigs on every run, so a
stack created before the budget (or by another version of this file) converges on the next
``make up`` without losing any other setting a topic may carry. aiokafka's admin client
only has the older AlterConfigs, which replaces a resource's whole configuration, so the
incremental request is declared here with aiokafka's own protocol types.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import NoError, TopicAlreadyExistsError, for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

from contracts.kafka_auth import NO_AUTH, KafkaAuth, kafka_auth
from contracts.limits import MAX_RECORD_BYTES
from contracts.topics import TOPIC_SPECS, TopicSpec
from infra.kafka_cluster import Replication

# The broker resource named "" is the cluster-wide default of a broker config.
CLUSTER_DEFAULT = ""
_SET = 0  # IncrementalAlterConfigs operation codes: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
_APPLY_SECONDS = 15.0


SINGLE = Replication(1, 1)


def budget_configs(copies: Replication = SINGLE) -> dict[str, str]:
    """What every topic carries (and what NewTopic gets when it is created): the record
    budget, and on a cluster how many replicas must hold a write."""
    configs = {"max.message.bytes": str(MAX_RECORD_BYTES)}
    if copies.factor > 1:
        configs["min.insync.replicas"] = str(copies.min_insync)
    return configs


class IncrementalAlterConfigsResponse_v0(Response):  # noqa: N801 - aiokafka's naming
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("responses", Array(("error_code", Int16), ("error_message", String("utf-8")),
                            ("resource_type", Int8), ("resource_name", String("utf-8")))),
    )


class IncrementalAlterConfigsRequest_v0(RequestStruct):  # noqa: N801 - aiokafka's naming
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        ("resources", Array(("resource_type", Int8), ("resource_name", String("utf-8")),
                            ("configs", Array(("name", String("utf-8")),
                                              ("config_operation", Int8),
                                              ("value", String("utf-8")))))),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigsRequest(Request[IncrementalAlterConfigsRequest_v0]):
    API_KEY = 44

    def __init__(self, resources: list[tuple[int, str, dict[str, str]]]) -> None:
        self._resources = resources

    def build(self, request_struct_class: type[IncrementalAlterConfigsRequest_v0]
              ) -> IncrementalAlterConfigsRequest_v0:
        return request_struct_class(
            [(kind, name, [(key, _SET, value) for key, value in configs.items()])
             for kind, name, configs in self._resources],
            False,
        )


async def set_configs(admin: AIOKafkaAdminClient,
                      resources: list[tuple[int, str, dict[str, str]]]) -> None:
    """SET each config on each resource, leaving every other config as it is."""
    response = await admin._send_request(IncrementalAlterConfigsRequest(resources))  # noqa: SLF001 - no public way to send a request aiokafka does not declare
    problems = [f"{name or 'cluster default'}: {for_code(code).__name__} {message or ''}"
                for code, message, _, name in response.responses if for_code(code) is not NoError]
    if problems:
        raise RuntimeError("kafka: could not set the record budget: " + "; ".join(problems))


async def wait_for_topic_configs(admin: AIOKafkaAdminClient, names: list[str],
                                 configs: dict[str, str]) -> None:
    """Until the broker reports ``configs`` on every topic (at most _APPLY_SECONDS): the
    controller acknowledges an alter before the broker serving the topics has applied it."""
    lagging = names
    try:
        async with asyncio.timeout(_APPLY_SECONDS):
            while True:
                responses = await admin.describe_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, name, configs) for name in names])
                lagging = [resource[3] for response in responses
                           for resource in response.resources
                           if {entry[0]: entry[1] for entry in resource[4]} != configs]
                if not lagging:
                    return
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise RuntimeError(f"kafka: topics {lagging} did not take {configs}") from None


async def ensure_topics(bootstrap: str, specs: tuple[TopicSpec, ...] = TOPIC_SPECS,
                        copies: Replication = SINGLE, auth: KafkaAuth = NO_AUTH) -> list[str]:
    """Create missing topics (with ``copies`` replicas) and bring every topic to the budget;
    returns the names created."""
    configs = budget_configs(copies)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000,
                                **auth.client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(s.name, num_partitions=s.partitions,
                              replication_factor=copies.factor, topic_configs=configs)
                     for s in missing]
                )
            except TopicAlreadyExistsError:
                pass
        await set_configs(admin, [
            (ConfigResourceType.BROKER, CLUSTER_DEFAULT, {"message.max.bytes":
                                                          str(MAX_RECORD_BYTES)}),
            *((ConfigResourceType.TOPIC, s.name, configs) for s in specs),
        ])
        await wait_for_topic_configs(admin, [s.name for s in specs], configs)
        return [s.name for s in missing]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str], auth: KafkaAuth = NO_AUTH) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000,
                                **auth.client_kwargs())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


def describe_leaders(bootstrap: str, specs: tuple[TopicSpec, ...] = TOPIC_SPECS,
                     auth: KafkaAuth = NO_AUTH) -> str:
    """Each contract topic's partitions: leader, replicas and in-sync replicas (for status)."""
    async def describe() -> list[dict]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000,
                                    **auth.client_kwargs())
        await admin.start()
        try:
            return await admin.describe_topics([s.name for s in specs])
        finally:
            await admin.close()

    lines = ["topic partition: leader [replicas] in-sync [isr]"]
    for topic in sorted(asyncio.run(describe()), key=lambda t: t["topic"]):
        for part in sorted(topic["partitions"], key=lambda p: p["partition"]):
            lines.append(f"  {topic['topic']} {part['partition']}: leader {part['leader']} "
                         f"replicas {sorted(part['replicas'])} in-sync {sorted(part['isr'])}")
    return "\n".join(lines)


def broker_ready(bootstrap: str, auth: KafkaAuth = NO_AUTH) -> bool:
    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000,
                                    **auth.client_kwargs())
        await asyncio.wait_for(admin.start(), 5)
        try:
            await asyncio.wait_for(admin.describe_cluster(), 5)
            return True
        finally:
            await admin.close()

    try:
        return asyncio.run(probe())
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def main() -> None:
    """`python -m infra.topics`: create the pipeline's topics (compose's kafka-init uses it),
    signed in as the operator (KAFKA_SASL_*)."""
    import os

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    try:
        auth = kafka_auth(os.environ)
    except ValueError as err:
        raise SystemExit(f"topics: invalid configuration: {err}") from None
    created = asyncio.run(ensure_topics(bootstrap, auth=auth))
    print(f"topics: created {created}" if created else "topics: all present")
    print(f"topics: every topic at max.message.bytes={MAX_RECORD_BYTES}")


if __name__ == "__main__":
    main()
