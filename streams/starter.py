"""The starter worker: Kafka -> Temporal workflows, one per event (or per batch of payments).

Run: ``faust -A streams.starter worker -l info`` (web on 127.0.0.1:6067).

    payments.normalized      -> PaymentEventWorkflow
    payments.validation.dlq  -> DLQReviewWorkflow (the normalizer's dead letters)
    webhooks.dlq             -> DLQReviewWorkflow (the gateway's, stage "gateway")

An event's offset moves only once its outcome is durable:

* Temporal accepted the signal-with-start. A transient error (server or network) is
  retried with capped backoff, so a Temporal outage delays events but never drops one.
* Temporal refused a payment's start for good (a permanent gRPC status, see
  streams/workflow_starts.py): the event becomes a dead letter on payments.validation.dlq,
  stage "start", its issue code naming the status, and goes to review from there.
* Temporal refused a review's start for good: there is nowhere further to send it. It is
  *parked*: logged at ERROR with its coordinates and counted in
  ``streams_starter_parked_dead_letters_total``; the record itself stays in its topic.

With STREAMS_STARTER_BATCH_SIZE > 1 (issue 19) the payments of a gathering go to one
PaymentBatchWorkflow each batch (streams/batches.py); the rules above hold per event, and a
batch Temporal refuses for good is started again one event at a time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
from faust.types import EventT, StreamT
from prometheus_client import Counter

from contracts.dead_letters import DeadLetter, ValidationIssue
from contracts.events import PaymentEvent
from contracts.limits import ISSUE_MESSAGE_MAX_CHARS
from contracts.workflows import DLQ_REVIEW, PAYMENT_EVENT, WorkflowTarget
from encryption import CodecSettings
from streams import views
from streams.batches import BatchStarts, Decoded
from streams.codecs import build_dead_letter
from streams.faust_internals import App
from streams.gateway_letters import gateway_dead_letter
from streams.logs import use_json_logs
from streams.metrics import AgentCounters
from streams.publishing import send_all_confirmed, work_in_batches
from streams.records import DeadLetterRecord, NormalizedEvent, letter_record, to_event, to_letter
from streams.schemas import DeadLetteringSchema
from streams.settings import StreamsSettings
from streams.workflow_starts import StartRefusedError, WorkflowStarter
from telemetry import bind_event_id

log = logging.getLogger(__name__)
settings = StreamsSettings()

app = App(settings.STARTER_APP_ID, **settings.starter_app_options(settings.STARTER_APP_ID))


# The normalizer's outputs are Records; a value that is not its topic's Record reaches the
# agent as the DeadLetterRecord of its coordinates (streams/schemas.py), never as an error.
normalized_topic = app.topic(settings.TOPIC_NORMALIZED,
                             schema=DeadLetteringSchema(NormalizedEvent))
dlq_topic = app.topic(settings.TOPIC_VALIDATION_DLQ, schema=DeadLetteringSchema(DeadLetterRecord))
# The gateway's dead letters stay bytes: their fields travel in headers (gateway_letters.py).
gateway_dlq_topic = app.topic(settings.TOPIC_WEBHOOKS_DLQ, key_type=bytes, value_type=bytes,
                              key_serializer="raw", value_serializer="raw")
counters = AgentCounters("starter")
# Every event and dead letter is encrypted before it reaches Temporal (encryption/); a
# missing or unusable TEMPORAL_CODEC_KEYS or TEMPORAL_CODEC_KEY_ID stops the worker here,
# at import, naming the setting, like StreamsSettings above.
starter = WorkflowStarter(settings.TEMPORAL_TARGET, settings.TEMPORAL_NAMESPACE,
                          settings.TEMPORAL_TASK_QUEUE, settings.STARTER_RETRY_MAX_SECONDS,
                          data_converter=CodecSettings().data_converter())
# The batched mode's starts (streams/batches.py): through the same starter, and whatever
# it does not batch through the per-event path, start_decoded (defined below: looked up
# when called, so that both modes always share it).
batch_starts = BatchStarts(starter, counters, lambda item, agent: start_decoded(item, agent),
                           settings.STARTER_BATCH_SIZE)
PARKED = Counter(
    "streams_starter_parked_dead_letters",
    "Dead letters whose review workflow Temporal refused to start for good; each is logged "
    "at ERROR with its topic, partition and offset, and its offset moved on.",
    ["topic", "reason"],
)


def decode_for_start(event: EventT) -> tuple[WorkflowTarget, str, Any]:
    """The workflow, event id and argument for one message.

    A message that did not decode is not dropped: its topic's schema made it a dead letter
    keyed by its coordinates, which goes to review, so a bug upstream is visible and
    nothing is lost.
    """
    message = event.message
    if message.topic == settings.TOPIC_WEBHOOKS_DLQ:
        raw = bytes(message.value or b"")
        letter = gateway_dead_letter(raw, message.key, message.headers, topic=message.topic,
                                     partition=message.partition, offset=message.offset,
                                     now=datetime.now(UTC))
        return DLQ_REVIEW, letter.event_id, letter
    value = event.value
    if isinstance(value, NormalizedEvent):
        payment = to_event(value)
        return PAYMENT_EVENT, payment.event_id, payment
    letter = to_letter(value)
    return DLQ_REVIEW, letter.event_id, letter


def refused_start_letter(event: EventT, payment: PaymentEvent,
                         refused: StartRefusedError) -> DeadLetter:
    """The dead letter of a payment whose workflow Temporal will never start."""
    message = event.message
    # Status and reason first: the workflow id may be what was too long.
    text = (f"Temporal refused the start ({refused.status.name}): {refused.message}; "
            f"workflow id {refused.workflow_id}")
    issue = ValidationIssue(refused.reason, text[:ISSUE_MESSAGE_MAX_CHARS])
    return build_dead_letter(bytes(message.value or b""), [issue], topic=message.topic,
                             partition=message.partition, offset=message.offset,
                             failed_at=datetime.now(UTC), stage="start",
                             provider=payment.provider,
                             provider_event_id=payment.provider_event_id)


async def handle_refusal(event: EventT, target: WorkflowTarget, arg: Any,
                         refused: StartRefusedError) -> str:
    """Dead-letter a refused payment; park a refused review. Returns the outcome."""
    message = event.message
    if target == PAYMENT_EVENT:
        letter = refused_start_letter(event, arg, refused)
        await send_all_confirmed([partial(dlq_topic.send, key=letter.event_id.encode(),
                                          value=letter_record(letter))])
        log.warning("start refused, dead-lettered to %s: %s", settings.TOPIC_VALIDATION_DLQ,
                    refused, extra={"reason": refused.reason})
        return "dead_lettered"
    PARKED.labels(message.topic, refused.reason).inc()
    log.error("dead letter parked: Temporal refused its review for good (%s); the record "
              "stays at %s partition %d offset %d", refused, message.topic, message.partition,
              message.offset, extra={"reason": refused.reason, "source_topic": message.topic,
                                     "source_partition": message.partition,
                                     "source_offset": message.offset})
    return "parked"


async def start_message(event: EventT, agent: str) -> str:
    """Signal-with-start the workflow for one message; returns the outcome."""
    decoded = Decoded(event, *decode_for_start(event))
    counters.add(agent, "processed")
    return await start_decoded(decoded, agent)


async def start_decoded(decoded: Decoded, agent: str) -> str:
    """The per-event path (also the batched mode's, for whatever is not batched)."""
    event, target, event_id, arg = decoded.event, decoded.target, decoded.event_id, decoded.arg
    bind_event_id(event_id)
    try:
        try:
            outcome = await starter.signal_with_start(
                target, event_id, arg, on_retry=lambda: counters.add(agent, "retried"))
        except StartRefusedError as refused:
            outcome = await handle_refusal(event, target, arg, refused)
        counters.add(agent, outcome)
        log.info("workflow %s: %s", target.workflow, outcome)
        return outcome
    finally:
        bind_event_id(None)


async def start_messages(events: list[EventT], agent: str) -> None:
    """The batched mode's handler of one gathering (streams/batches.py)."""
    await batch_starts.start_all([Decoded(event, *decode_for_start(event)) for event in events],
                                 agent)


async def _start_stream(stream: StreamT, agent: str) -> None:
    # Manual acks: faust acks an event in a `finally` even when the body raised or was
    # cancelled (e.g. at shutdown while Temporal is down), which would commit past it.
    manual = stream.noack()
    async for event in manual.events():
        await start_message(event, agent)
        await manual.ack(event)


@app.agent(normalized_topic, name="start-payment-workflows",
           concurrency=settings.normalized_actors)
async def start_payment_workflows(stream: StreamT[NormalizedEvent]) -> None:
    """Start (or signal) PaymentEventWorkflow for each normalized event (and DLQReviewWorkflow
    for a value that was not one: its schema made it a dead letter); with
    STREAMS_STARTER_BATCH_SIZE > 1, PaymentBatchWorkflow for each batch of payments."""
    if settings.STARTER_BATCH_SIZE == 1:
        await _start_stream(stream, "normalized")
        return
    # Each of the STREAMS_STARTER_BATCH_ACTORS actors gathers its own batches (so one, by
    # default); work_in_batches acks a gathering only once start_messages returned, i.e.
    # once every one of its outcomes is durable.
    await work_in_batches(stream, partial(start_messages, agent="normalized"),
                          settings.STARTER_BATCH_SIZE, settings.STARTER_BATCH_WINDOW_SECONDS)


@app.agent(dlq_topic, name="start-dlq-reviews", concurrency=settings.STARTER_CONCURRENCY)
async def start_dlq_reviews(stream: StreamT[DeadLetterRecord]) -> None:
    """Start (or signal) DLQReviewWorkflow for each dead letter."""
    await _start_stream(stream, "dead_letter")


@app.agent(gateway_dlq_topic, name="start-gateway-reviews",
           concurrency=settings.STARTER_CONCURRENCY)
async def start_gateway_reviews(stream: StreamT[bytes]) -> None:
    """Start (or signal) DLQReviewWorkflow for each webhook the gateway dead-lettered."""
    await _start_stream(stream, "gateway_dead_letter")


@app.task
async def configure_logs() -> None:
    """Switch to JSON logs once faust's worker has set up its own logging."""
    use_json_logs("streams.starter", settings.LOG_LEVEL)


async def ready(app_: faust.App) -> tuple[bool, dict[str, Any]]:
    """Consumer assigned, broker reachable, Temporal healthy and our namespace known."""
    ok, details = await views.consumer_ready(app_)
    try:
        details["temporal"] = await starter.check_health()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        details["temporal"], details["temporal_error"] = False, repr(exc)
    return ok and details["temporal"], details


views.register_health(app, counters, check_ready=ready)
