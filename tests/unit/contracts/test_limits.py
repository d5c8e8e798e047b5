"""The record budget holds: the framing around the largest key, headers and value is
measured with aiokafka's own record-batch builder, not guessed."""

from __future__ import annotations

import pytest
from aiokafka.record.default_records import (
    DefaultRecordBatchBuilder,
    _DefaultRecordBatchBuilderPy,
)

from contracts.dead_letters import GATEWAY_DLQ_HEADERS
from contracts.limits import (
    DEAD_LETTER_MAX_BYTES,
    FRAMING_BYTES,
    MAX_HEADERS_BYTES,
    MAX_KEY_BYTES,
    MAX_RECORD_BYTES,
    MAX_VALUE_BYTES,
)

# A producer writes a few headers (the gateway at most six: GATEWAY_DLQ_HEADERS); each
# header adds its own length varints to the framing, so the count is part of the measure.
HEADER_COUNTS = (0, 1, 4, len(GATEWAY_DLQ_HEADERS), 8)


def largest_headers(count: int) -> list[tuple[str, bytes]]:
    """``count`` headers whose names and values add up to exactly MAX_HEADERS_BYTES."""
    if count == 0:
        return []
    names = [*GATEWAY_DLQ_HEADERS, "extra_one", "extra_two"][:count]
    room = MAX_HEADERS_BYTES - sum(len(name) for name in names)
    sizes = [room // count] * count
    sizes[-1] += room - sum(sizes)
    return [(name, b"v" * size) for name, size in zip(names, sizes, strict=True)]


def one_record_batch(builder_class, key, value, headers) -> bytes:
    # Producer state set as the idempotent producer sets it; it does not change the size.
    builder = builder_class(magic=2, compression_type=0, is_transactional=0,
                            producer_id=2**40, producer_epoch=7, base_sequence=2**20,
                            batch_size=16 * 1024)
    assert builder.append(0, 1_780_000_000_000, key, value, headers) is not None
    return bytes(builder.build())


@pytest.mark.parametrize("builder_class", [DefaultRecordBatchBuilder,
                                           _DefaultRecordBatchBuilderPy])
@pytest.mark.parametrize("count", HEADER_COUNTS)
def test_the_framing_of_the_largest_record_fits_framing_bytes(builder_class, count):
    key, value = b"k" * MAX_KEY_BYTES, b"x" * MAX_VALUE_BYTES
    headers = largest_headers(count)
    payload = len(key) + len(value) + sum(len(n) + len(v) for n, v in headers)
    batch = one_record_batch(builder_class, key, value, headers)
    framing = len(batch) - payload
    # What aiokafka's producer compares with max_request_size before it queues a record:
    # an upper bound of the batch, so it must fit the budget too.
    estimate = builder_class.estimate_size_in_bytes(key, value, headers) - payload
    print(f"headers={count}: batch framing {framing} B, producer estimate {estimate} B")
    assert framing <= estimate <= FRAMING_BYTES
    assert len(batch) <= MAX_RECORD_BYTES


def test_the_budget_adds_up():
    assert MAX_VALUE_BYTES == MAX_RECORD_BYTES - FRAMING_BYTES - MAX_KEY_BYTES - MAX_HEADERS_BYTES
    assert MAX_VALUE_BYTES == 1_046_912
    assert DEAD_LETTER_MAX_BYTES + FRAMING_BYTES + MAX_KEY_BYTES + MAX_HEADERS_BYTES \
        <= MAX_RECORD_BYTES
