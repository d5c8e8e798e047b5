"""`python -m orchestration.review show <event_id>`: a quarantined event as it arrived.

Quarantine keeps only a redacted excerpt (contracts/redaction.py) and the original's sha256.
The original is read here, for the reviewer, from the record at the row's source coordinates
(topic, partition, offset) while the topic still keeps it (7 days on the raw topics); its
sha256 is checked against the row's, so what is shown is what was quarantined. Nothing read
here is written anywhere: ``--output`` saves the exact bytes to a file the reviewer names.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.kafka_auth import NO_AUTH, KafkaAuth

CLIENT_ID = "orchestration-review-show"


@dataclass(frozen=True, slots=True)
class OriginalRecord:
    """The record a quarantine row's coordinates address."""

    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int


class OriginalUnavailableError(Exception):
    """The record is not on its topic (any more): the message says why."""


async def read_original(bootstrap: str, topic: str, partition: int, offset: int,
                        timeout_seconds: float, auth: KafkaAuth = NO_AUTH
                        ) -> OriginalRecord:
    """The record at (topic, partition, offset), or OriginalUnavailableError."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id=CLIENT_ID, group_id=None,
                                enable_auto_commit=False,
                                request_timeout_ms=int(timeout_seconds * 1000),
                                **auth.client_kwargs())
    await consumer.start()
    try:
        return await asyncio.wait_for(_read(consumer, TopicPartition(topic, partition), offset),
                                      timeout_seconds)
    except TimeoutError:
        raise OriginalUnavailableError(
            f"{topic}:{partition}:{offset} not read within {timeout_seconds:g} s") from None
    finally:
        await consumer.stop()


async def _read(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> OriginalRecord:
    if tp.topic not in await consumer.topics():  # fetches the cluster's metadata
        raise OriginalUnavailableError(f"there is no topic {tp.topic}")
    # topics() does not keep what it fetched; an assignment makes the client track the
    # topic, and its partitions arrive with the next metadata update.
    consumer.assign([tp])
    partitions = None
    for _ in range(50):
        if partitions := consumer.partitions_for_topic(tp.topic):
            break
        await asyncio.sleep(0.1)
    if tp.partition not in (partitions or set()):
        raise OriginalUnavailableError(f"{tp.topic} has no partition {tp.partition}")
    start = (await consumer.beginning_offsets([tp]))[tp]
    end = (await consumer.end_offsets([tp]))[tp]
    if offset < start:
        raise OriginalUnavailableError(
            f"{tp.topic}:{tp.partition} no longer keeps offset {offset} (it starts at {start}: "
            "retention has deleted the original)")
    if offset >= end:
        raise OriginalUnavailableError(f"{tp.topic}:{tp.partition} has no offset {offset} "
                                       f"(it ends at {end})")
    consumer.seek(tp, offset)
    record = await consumer.getone(tp)
    if record.offset != offset:  # a compacted topic may have removed it
        raise OriginalUnavailableError(f"{tp.topic}:{tp.partition}:{offset} is gone")
    return OriginalRecord(record.key, record.value or b"",
                          tuple((name, bytes(value)) for name, value in record.headers or ()),
                          record.timestamp)


def render(row: dict[str, Any], original: OriginalRecord) -> str:
    """The row's review facts, then the original: headers, key and value as text (base64
    when the bytes are not UTF-8)."""
    digest = hashlib.sha256(original.value).hexdigest()
    verdict = ("matches the quarantine row" if digest == row["payload_sha256"]
               else f"DIFFERS from the quarantine row's {row['payload_sha256']}")
    at = datetime.fromtimestamp(original.timestamp_ms / 1000, UTC).isoformat()
    lines = [
        f"quarantined {row['event_id']}: {row['review_status']}, errors "
        f"{', '.join(row['error_codes'])}, excerpt {row.get('payload_redaction') or 'unredacted'}",
        f"original at {row['source_topic']}:{row['source_partition']}:{row['source_offset']}"
        f" (written {at}), {len(original.value)} bytes, sha256 {digest} {verdict}",
        f"key: {_text(original.key or b'')}",
        *(f"header {name}: {_text(value)}" for name, value in original.headers),
        "",
        _text(original.value),
    ]
    return "\n".join(lines)


def save(original: OriginalRecord, path: Path) -> str:
    path.write_bytes(original.value)
    return f"wrote the original's {len(original.value)} bytes to {path}"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode("ascii")


__all__ = ["OriginalRecord", "OriginalUnavailableError", "read_original", "render", "save"]
