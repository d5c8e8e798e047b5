"""Read back everything the pipeline stored since a moment, store by store, as text.

Each scanner yields (where, text) for what was written after ``Since`` was taken, so that a
long-lived shared stack's older data (written before the data map, or by other runs) is not
judged: PostgreSQL rows whose writing transaction (xmin) came after it, Kafka records past the
end offsets it noted (every topic but the raw ``webhooks.*``), the Temporal histories of
workflows started after it (payloads decoded, as the SDK's default converter wrote them), and
the Iceberg warehouse files written after it (Parquet read as rows).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from temporalio.client import Client

from tests.kafka_clients import kafka_kwargs

RAW_PREFIX = "webhooks."


@dataclass(frozen=True, slots=True)
class Since:
    at: datetime  # UTC
    xid: int  # PostgreSQL's 32-bit transaction id then
    offsets: dict[TopicPartition, int]  # Kafka end offsets then


async def take_since(dsn: str, bootstrap: str, at: datetime) -> Since:
    conn = await asyncpg.connect(dsn)
    try:
        xid = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint") % 2**32
    finally:
        await conn.close()
    consumer = await _consumer(bootstrap)
    try:
        partitions = await _partitions(consumer, bootstrap, False) + await _partitions(
            consumer, bootstrap, True)
        offsets = await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()
    return Since(at, xid, dict(offsets))


async def postgres_texts(dsn: str, since: Since) -> AsyncIterator[tuple[str, str]]:
    """Every row of every table that a transaction after ``since`` wrote, as text."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            rows = await conn.fetch(f"SELECT t::text AS row FROM {name} t "  # noqa: S608
                                    "WHERE xmin::text::bigint >= $1", since.xid)
            for row in rows:
                yield f"postgres {name}", row["row"]
    finally:
        await conn.close()


async def kafka_texts(bootstrap: str, since: Since,
                      raw: bool = False) -> AsyncIterator[tuple[str, str]]:
    """Every record written after ``since`` to a topic that is not a raw ``webhooks.*`` one
    (or, with ``raw``, that is): key, headers and value (UTF-8, undecodable bytes replaced)."""
    consumer = await _consumer(bootstrap)
    try:
        partitions = await _partitions(consumer, bootstrap, raw)
        ends = await consumer.end_offsets(partitions) if partitions else {}
        consumer.assign(partitions)
        for tp in partitions:
            start = since.offsets.get(tp, 0)
            if start >= ends[tp]:
                continue
            consumer.seek(tp, start)
            position = start
            while position < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=5000, max_records=500)
                records = batch.get(tp, [])
                if not records:
                    break  # compacted or aborted away: nothing more to read here
                for record in records:
                    position = record.offset + 1
                    parts = [record.key or b"", record.value or b""]
                    parts += [name.encode() + b"=" + value for name, value in record.headers]
                    yield (f"kafka {tp.topic}:{tp.partition}:{record.offset}",
                           b"\n".join(parts).decode("utf-8", "replace"))
    finally:
        await consumer.stop()


async def temporal_texts(client: Client, since: Since) -> AsyncIterator[tuple[str, str]]:
    """The history of every workflow started after ``since``: its JSON, and each payload's
    data decoded (the JSON holds payloads as base64)."""
    query = f"StartTime >= '{since.at.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = (await handle.fetch_history()).to_json()
        decoded = list(_payload_data(json.loads(history)))
        yield f"temporal {execution.id} ({execution.run_id})", "\n".join([history, *decoded])


def iceberg_texts(warehouse_uri: str, since: Since) -> Iterator[tuple[str, str]]:
    """Every warehouse file written after ``since``: Parquet as its rows, the rest as text."""
    root = Path(urlparse(warehouse_uri).path)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.stat().st_mtime < since.at.timestamp():
            continue
        if path.suffix == ".parquet":
            text = "\n".join(repr(row) for row in pq.read_table(path).to_pylist())
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        yield f"iceberg {path.relative_to(root)}", text


def _payload_data(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("data"), str) and "metadata" in value:
            try:
                yield base64.b64decode(value["data"]).decode("utf-8", "replace")
            except ValueError:
                pass
        for item in value.values():
            yield from _payload_data(item)
    elif isinstance(value, list):
        for item in value:
            yield from _payload_data(item)


async def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=None,
                                enable_auto_commit=False, exclude_internal_topics=False,
                                request_timeout_ms=30_000)
    await consumer.start()
    return consumer


async def _partitions(consumer: AIOKafkaConsumer, bootstrap: str,
                      raw: bool) -> list[TopicPartition]:
    """Every partition of the (raw, or other) topics, from the broker's own description:
    the consumer's topics() keeps no partitions for topics it is not assigned."""
    topics = sorted(t for t in await consumer.topics() if t.startswith(RAW_PREFIX) == raw)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described
            for p in sorted(t["partitions"], key=lambda p: p["partition"])]
