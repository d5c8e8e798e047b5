"""Creates the pipeline's topics explicitly; the broker never auto-creates them."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import TOPIC_SPECS, TopicSpec


async def ensure_topics(bootstrap: str, specs: tuple[TopicSpec, ...] = TOPIC_SPECS) -> list[str]:
    """Create missing topics; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(s.name, num_partitions=s.partitions, replication_factor=1)
                     for s in missing]
                )
            except TopicAlreadyExistsError:
                pass
        return [s.name for s in missing]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


def broker_ready(bootstrap: str) -> bool:
    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
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
    """`python -m infra.topics`: create the pipeline's topics (compose's kafka-init uses it)."""
    import os

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    created = asyncio.run(ensure_topics(bootstrap))
    print(f"topics: created {created}" if created else "topics: all present")


if __name__ == "__main__":
    main()
