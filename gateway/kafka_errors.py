"""What a failed Kafka write means for the webhook and for the producer that made it.

Three answers, decided from the exception alone (pure, so every case has a unit test):

- ``TOO_LARGE``: the record is over a size limit. Permanent: retrying the same body can
  never succeed, so the sender gets a 413 with a reason, never a 503 to retry forever.
- ``TRANSIENT``: the broker is away, slow or moving leaders. 503, the sender retries, and
  the producer is left alone (with idempotence aiokafka keeps retrying the batch itself).
- ``BROKEN``: the idempotent producer's view of a partition may no longer match the
  broker's. aiokafka numbers a batch's records when it first sends it; if the broker then
  refuses the batch for good (too large, corrupt, fenced, an unknown producer id), the next
  batch on that partition carries a sequence the broker never saw the start of, and every
  later write there fails with OutOfOrderSequenceNumber. Only a new producer (a new
  producer id, sequences from zero) gets out of that, so the publisher rebuilds it.

A refusal by the broker (``delivered=True``: raised by the batch's future, after the
records were numbered) is both: a size refusal there is TOO_LARGE for the webhook and
BROKEN for the producer. The same error raised by ``send()`` itself, before the record
was queued, leaves the producer untouched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
)

_SIZE_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)


class Verdict(enum.Enum):
    TOO_LARGE = "too_large"
    TRANSIENT = "transient"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Classification:
    verdict: Verdict  # what the webhook is told: 413, or 503
    rebuild: bool  # whether the producer must be replaced
    reason: str  # the stable code the webhook's answer carries


def classify_publish_error(exc: BaseException, *, delivered: bool) -> Classification:
    """``delivered``: the error came back for a batch that had been handed to the sender."""
    if isinstance(exc, _SIZE_ERRORS):
        reason = "record_too_large_for_broker" if delivered else "record_too_large"
        return Classification(Verdict.TOO_LARGE, delivered, reason)
    if isinstance(exc, TimeoutError | KafkaTimeoutError):
        return Classification(Verdict.TRANSIENT, False, "kafka_timeout")
    if isinstance(exc, ProducerClosed):
        # The producer was stopped under this write (a rebuild or a shutdown): retry.
        return Classification(Verdict.TRANSIENT, False, "kafka_producer_closed")
    if isinstance(exc, KafkaError) and exc.retriable:
        return Classification(Verdict.TRANSIENT, False, "kafka_error")
    # Any other KafkaError, from the broker or from a sender task that died: the producer
    # can no longer be trusted with the next write.
    return Classification(Verdict.BROKEN, True, "kafka_producer_broken")
