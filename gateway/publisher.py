"""The only Kafka I/O in the gateway: an idempotent acks=all producer that may start late.

The producer is opened by a background task that keeps trying while the broker is
unreachable, so the gateway starts (and answers 503, and reports not-ready) during a Kafka
outage instead of crash-looping, and serves again as soon as the broker is back.

A publish that times out is reported as unavailable (503) even though the record may still
reach the broker later; the sender then retries and the topic holds the event twice. That
is the safe side of the trade: the normalizer deduplicates by event id, while a 2xx for an
unstored event could never be repaired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from gateway.errors import PayloadTooLargeError, PublishUnavailableError

log = logging.getLogger("gateway.publisher")

Headers = list[tuple[str, bytes]]

# Room for the Kafka record and batch framing around a body of the largest accepted size.
_FRAMING_BYTES = 64 * 1024
# aiokafka drains at most one batch per partition into each produce request; at the 16 KiB
# default a few Stripe events (median 2.7 KB) fill it, and the rest wait a round trip.
_BATCH_BYTES = 256 * 1024


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> None:
        """Return only once the broker acknowledged the write; else raise."""
        ...

    async def check_ready(self) -> bool: ...


class KafkaPublisher:
    """Writes records with acks=all and idempotence, bounded by a publish timeout."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        publish_timeout: float,
        connect_retry: float = 1.0,
        ready_timeout: float = 2.0,
        ready_cache: float = 1.0,
        linger_ms: int = 0,
        topic_prefix: str = "",
        max_body_bytes: int = 1024 * 1024,
        observe_publish=None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._publish_timeout = publish_timeout
        self._connect_retry = connect_retry
        self._ready_timeout = ready_timeout
        self._ready_cache = ready_cache
        self._linger_ms = linger_ms
        self._topic_prefix = topic_prefix
        self._max_request_size = max_body_bytes + _FRAMING_BYTES
        self._observe_publish = observe_publish
        self._producer: AIOKafkaProducer | None = None
        self._connector: asyncio.Task | None = None
        self._ready_at = 0.0
        self._ready = False

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        """Start connecting in the background; never fails because the broker is down."""
        if self._connector is None:
            self._connector = asyncio.create_task(self._connect(), name="gateway-kafka-connect")

    async def _connect(self) -> None:
        while self._producer is None:
            producer = self._new_producer()
            try:
                await asyncio.wait_for(producer.start(), self._ready_timeout + 5)
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("kafka unreachable, retrying", extra={
                    "bootstrap_servers": self._bootstrap, "error": repr(exc)})
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(self._connect_retry)
            else:
                self._producer = producer
                log.info("kafka producer connected",
                         extra={"bootstrap_servers": self._bootstrap})

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            max_batch_size=_BATCH_BYTES,
            max_request_size=self._max_request_size,
            # Batches not sent within this bound expire instead of being written long
            # after the client was told 503.
            request_timeout_ms=max(1000, int(self._publish_timeout * 1000)),
            client_id="gateway",
        )

    async def stop(self) -> None:
        """Stop connecting and flush what is in flight (AIOKafkaProducer.stop flushes)."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
            self._connector = None
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> None:
        producer = self._producer
        if producer is None:
            raise PublishUnavailableError("kafka_unavailable",
                                          "the gateway is not connected to Kafka", topic=topic)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._publish_timeout):
                await producer.send_and_wait(self._topic_prefix + topic, value, key=key,
                                             headers=headers)
        except TimeoutError:
            raise PublishUnavailableError(
                "kafka_timeout",
                f"Kafka did not acknowledge within {self._publish_timeout:g} s", topic=topic,
            ) from None
        except MessageSizeTooLargeError:
            raise PayloadTooLargeError("body_too_large_for_kafka",
                                       "body is larger than the broker accepts") from None
        except KafkaError as exc:
            raise PublishUnavailableError("kafka_error", f"Kafka refused the write: "
                                          f"{type(exc).__name__}", topic=topic) from None
        if self._observe_publish is not None:
            self._observe_publish(topic, time.perf_counter() - started)

    async def check_ready(self) -> bool:
        """A metadata round trip to the broker, reused for ``ready_cache`` seconds."""
        producer = self._producer
        if producer is None:
            return False
        now = time.monotonic()
        if now - self._ready_at < self._ready_cache:
            return self._ready
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), self._ready_timeout)
            self._ready = True
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("kafka readiness check failed", extra={"error": repr(exc)})
            self._ready = False
        self._ready_at = time.monotonic()
        return self._ready
