"""Each Kafka producer error has one meaning: 413, 503, or 503 and a new producer."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    CorruptRecordException,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    RecordListTooLargeError,
    RecordTooLargeError,
    RequestTimedOutError,
    UnknownProducerId,
    UnknownTopicOrPartitionError,
)

from gateway.kafka_errors import Verdict, classify_publish_error


@pytest.mark.parametrize("error", [MessageSizeTooLargeError, RecordListTooLargeError,
                                   RecordTooLargeError])
def test_size_refusals_are_permanent_and_a_refused_batch_condemns_the_producer(error):
    before = classify_publish_error(error(), delivered=False)
    assert (before.verdict, before.rebuild, before.reason) == (
        Verdict.TOO_LARGE, False, "record_too_large")
    # Refused by the broker after the batch was numbered: the partition's sequence moved.
    after = classify_publish_error(error(), delivered=True)
    assert (after.verdict, after.rebuild, after.reason) == (
        Verdict.TOO_LARGE, True, "record_too_large_for_broker")


@pytest.mark.parametrize("error", [TimeoutError(), KafkaTimeoutError(), KafkaConnectionError(),
                                   NodeNotReadyError(), RequestTimedOutError(),
                                   NotLeaderForPartitionError(), NotEnoughReplicasError(),
                                   UnknownTopicOrPartitionError(), ProducerClosed()])
@pytest.mark.parametrize("delivered", [False, True])
def test_transient_errors_are_a_503_and_keep_the_producer(error, delivered):
    verdict = classify_publish_error(error, delivered=delivered)
    assert (verdict.verdict, verdict.rebuild) == (Verdict.TRANSIENT, False)
    assert verdict.reason in {"kafka_timeout", "kafka_error", "kafka_producer_closed"}


@pytest.mark.parametrize("error", [OutOfOrderSequenceNumber(), UnknownProducerId(),
                                   InvalidProducerEpoch(), ProducerFenced(),
                                   InvalidProducerIdMapping(), CorruptRecordException(),
                                   KafkaError("sender task died")])
@pytest.mark.parametrize("delivered", [False, True])
def test_errors_that_can_break_the_idempotent_producer_rebuild_it(error, delivered):
    verdict = classify_publish_error(error, delivered=delivered)
    assert (verdict.verdict, verdict.rebuild, verdict.reason) == (
        Verdict.BROKEN, True, "kafka_producer_broken")
