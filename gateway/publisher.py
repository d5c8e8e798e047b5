"""The only Kafka I/O in the gateway: an idempotent acks=all producer that may start late,
and is rebuilt when a write leaves it in a state it cannot recover from.

The producer is opened by a background task that keeps trying while the broker is
unreachable, so the gateway starts (and answers 503, and reports not-ready) during a Kafka
outage instead of crash-looping, and serves again as soon as the broker is back.

A failed write is classified (``gateway.kafka_errors``): a record over a size limit is a
413, never retried; a transient failure is a 503; a failure that can leave the idempotent
producer's sequence numbers out of step with the broker's (a refused batch, an unknown
producer id, ...) also replaces the producer: the broken one is stopped and a new one
started in the background, and until it is up every write answers 503 and ``/ready``
says ``kafka_producer_rebuilding``.

A publish that times out is reported as unavailable (503) even though the record may still
reach the broker later; the sender then retries and the topic holds the event twice. That
is the safe side of the trade: the normalizer deduplicates by event id, while a 2xx for an
unstored event could never be repaired.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import TYPE_CHECKING, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.kafka_auth import KafkaAuth
from contracts.limits import MAX_RECORD_BYTES
from gateway.errors import PayloadTooLargeError, PublishUnavailableError
from gateway.kafka_errors import Verdict, classify_publish_error

if TYPE_CHECKING:
    from gateway.metrics import Metrics

log = logging.getLogger("gateway.publisher")

Headers = list[tuple[str, bytes]]

# aiokafka drains at most one batch per partition into each produce request; at the 16 KiB
# default a few Stripe events (median 2.7 KB) fill it, and the rest wait a round trip.
# A record larger than this travels alone in its batch, so no batch ever exceeds
# max(_BATCH_BYTES, one record) and the broker's per-batch limit is the record limit.
_BATCH_BYTES = 256 * 1024


class ProducerState(enum.StrEnum):
    CONNECTING = "connecting"
    READY = "ready"
    REBUILDING = "rebuilding"
    STOPPED = "stopped"


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> None:
        """Return only once the broker acknowledged the write; else raise."""
        ...

    async def check_ready(self) -> str | None:
        """None when writes can be served, else the reason code for ``/ready``."""
        ...


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
        metrics: Metrics | None = None,
        auth: KafkaAuth | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._auth = auth or KafkaAuth()
        self._publish_timeout = publish_timeout
        self._connect_retry = connect_retry
        self._ready_timeout = ready_timeout
        self._ready_cache = ready_cache
        self._linger_ms = linger_ms
        self._topic_prefix = topic_prefix
        self._metrics = metrics
        self._producer: AIOKafkaProducer | None = None
        self._retiring: AIOKafkaProducer | None = None
        self._connector: asyncio.Task | None = None
        self._ready_at = 0.0
        self._ready = False
        self._state = ProducerState.STOPPED
        self._set_state(ProducerState.STOPPED)

    @property
    def connected(self) -> bool:
        return self._producer is not None

    @property
    def state(self) -> ProducerState:
        return self._state

    def _set_state(self, state: ProducerState) -> None:
        self._state = state
        if self._metrics is not None:
            self._metrics.producer_state.state(state.value)

    async def start(self) -> None:
        """Start connecting in the background; never fails because the broker is down."""
        if self._connector is None:
            self._set_state(ProducerState.CONNECTING)
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
                self._ready_at = 0.0  # the next readiness probe asks the new producer
                self._set_state(ProducerState.READY)
                log.info("kafka producer connected",
                         extra={"bootstrap_servers": self._bootstrap})

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            max_batch_size=_BATCH_BYTES,
            # The record budget (contracts/limits.py): aiokafka refuses a larger record
            # before it is numbered, so the broker (message.max.bytes and every topic's
            # max.message.bytes are the same number) never has to.
            max_request_size=MAX_RECORD_BYTES,
            # Batches not sent within this bound expire instead of being written long
            # after the client was told 503.
            request_timeout_ms=max(1000, int(self._publish_timeout * 1000)),
            client_id="gateway",
            **self._auth.client_kwargs(),
        )

    def rebuild(self, broken: AIOKafkaProducer, error: str) -> None:
        """Replace ``broken`` with a new producer in the background (once per producer).

        ``error`` is the aiokafka error class that condemned it: the rebuild counter's label.
        """
        if self._producer is not broken:
            return  # already replaced, or a rebuild is under way
        self._producer = None
        self._retiring = broken
        self._set_state(ProducerState.REBUILDING)
        if self._metrics is not None:
            self._metrics.producer_rebuilds.labels(error).inc()
        log.warning("kafka producer rebuilding", extra={"error": error})
        previous = self._connector
        self._connector = asyncio.create_task(self._replace(broken, previous),
                                              name="gateway-kafka-rebuild")

    async def _replace(self, broken: AIOKafkaProducer, previous: asyncio.Task | None) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
        # stop() flushes what the broken producer still holds; bounded, since a batch on
        # the broken partition may never be acknowledged.
        try:
            await asyncio.wait_for(broken.stop(), self._publish_timeout + 5)
        except Exception as exc:  # noqa: BLE001 - whatever it raises, a new producer must follow
            log.warning("broken kafka producer did not stop cleanly",
                        extra={"error": repr(exc)})
        self._retiring = None
        await self._connect()

    async def stop(self) -> None:
        """Stop connecting and flush what is in flight (AIOKafkaProducer.stop flushes)."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
            self._connector = None
        for producer in (self._retiring, self._producer):
            if producer is not None:
                with contextlib.suppress(KafkaError, OSError):
                    await producer.stop()
        self._producer = self._retiring = None
        self._set_state(ProducerState.STOPPED)

    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> None:
        producer = self._producer
        if producer is None:
            rebuilding = self._state is ProducerState.REBUILDING
            raise PublishUnavailableError(
                "kafka_producer_rebuilding" if rebuilding else "kafka_unavailable",
                "the gateway's Kafka producer is being rebuilt" if rebuilding
                else "the gateway is not connected to Kafka", topic=topic)
        started = time.perf_counter()
        delivered = False
        try:
            async with asyncio.timeout(self._publish_timeout):
                future = await producer.send(self._topic_prefix + topic, value, key=key,
                                             headers=headers)
                delivered = True
                await future
        except (KafkaError, TimeoutError) as exc:
            self._fail(producer, topic, exc, delivered)
        if self._metrics is not None:
            self._metrics.observe_publish(topic, time.perf_counter() - started)

    def _fail(self, producer: AIOKafkaProducer, topic: str, exc: BaseException,
              delivered: bool) -> None:
        verdict = classify_publish_error(exc, delivered=delivered)
        # The error class is for the log and the rebuild counter; the sender's answer
        # carries only the reason code and plain words (nothing about our internals).
        log.warning("kafka write failed", extra={"topic": topic, "reason": verdict.reason,
                                                 "error": type(exc).__name__})
        if verdict.rebuild:
            self.rebuild(producer, type(exc).__name__)
        if verdict.verdict is Verdict.TOO_LARGE:
            raise PayloadTooLargeError(verdict.reason, "the record for this body is larger "
                                       "than Kafka accepts") from None
        if isinstance(exc, TimeoutError):
            detail = f"Kafka did not acknowledge within {self._publish_timeout:g} s"
        else:
            detail = "Kafka did not store the write; retry"
        raise PublishUnavailableError(verdict.reason, detail, topic=topic) from None

    async def check_ready(self) -> str | None:
        """A metadata round trip to the broker, reused for ``ready_cache`` seconds."""
        producer = self._producer
        if producer is None:
            if self._state is ProducerState.REBUILDING:
                return "kafka_producer_rebuilding"
            return "kafka_unavailable"
        now = time.monotonic()
        if now - self._ready_at >= self._ready_cache:
            try:
                await asyncio.wait_for(producer.client.fetch_all_metadata(),
                                       self._ready_timeout)
                self._ready = True
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("kafka readiness check failed", extra={"error": repr(exc)})
                self._ready = False
            self._ready_at = time.monotonic()
        if producer is not self._producer:
            return "kafka_producer_rebuilding"  # replaced while the probe ran
        return None if self._ready else "kafka_unavailable"
