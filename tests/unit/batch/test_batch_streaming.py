"""The extract stream: regrouping batches and reading ahead in a thread."""

import pyarrow as pa
import pytest

from batch.loads import prefetch, rechunk


def batches(n: int, size: int = 3):
    for i in range(n):
        yield pa.record_batch({"x": list(range(i * size, (i + 1) * size))})


def test_rechunk_keeps_every_row_in_order():
    chunks = list(rechunk(batches(5), rows=7))
    assert [c.num_rows for c in chunks] == [9, 6]
    assert pa.concat_tables(chunks).column("x").to_pylist() == list(range(15))


def test_prefetch_yields_everything_and_reraises_a_producer_error():
    assert [t.num_rows for t in prefetch(rechunk(batches(4), rows=3))] == [3, 3, 3, 3]

    def broken():
        yield pa.table({"x": [1]})
        raise ConnectionError("server went away")

    with pytest.raises(ConnectionError, match="went away"):
        list(prefetch(broken()))


def test_prefetch_drains_the_source_when_the_consumer_stops_early():
    consumed = []

    def source():
        for i in range(5):
            consumed.append(i)
            yield pa.table({"x": [i]})

    stream = prefetch(source())
    next(stream)
    stream.close()
    assert consumed == [0, 1, 2, 3, 4]
