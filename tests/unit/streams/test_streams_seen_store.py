"""SeenStore on a real RocksDB-backed faust table: what it writes is what faust's own store,
its changelog restore and the web views read, and the reverse."""

from __future__ import annotations

import faust
import pytest
from faust.types.tuples import Message

from streams.changelog import SeenStore
from streams.dedup import decode_seen, encode_seen
from streams.faust_internals import current_event


@pytest.fixture
def table(tmp_path):
    app = faust.App(f"seen-store-{tmp_path.name}", store="rocksdb://", datadir=str(tmp_path))
    table = app.Table("dedup-seen", key_type=str, partitions=3)
    return table


def at(table, partition: int) -> faust.Event:
    message = Message("raw", partition, 0, 0.0, 0, [], b"k", b"v", None)
    return faust.Event(table.app, b"k", b"v", [], message)


def test_entries_it_puts_are_faust_table_entries(table):
    store = SeenStore(table)
    entries = [("stripe:evt_1", store.key("stripe:evt_1")), ("adyen:x", store.key("adyen:x"))]
    value = encode_seen(1_700_000_000.5, 2)
    store.put(2, entries, value, store.value(value))
    with current_event(at(table, 2)):
        assert "stripe:evt_1" in table and "adyen:x" in table
        assert decode_seen("stripe:evt_1", table.data["stripe:evt_1"]).seen_at == 1_700_000_000.5
    # Read without an event (the web view, the purge): faust searches every partition.
    assert decode_seen("adyen:x", table.data.get("adyen:x")).partition == 2


def test_it_finds_what_faust_wrote_in_the_same_partition_only(table):
    with current_event(at(table, 1)):
        table.data["stripe:evt_9"] = encode_seen(5.0, 1)
    store = SeenStore(table)
    key = store.key("stripe:evt_9")
    assert store.contains(1, "stripe:evt_9", key)
    assert not store.contains(0, "stripe:evt_9", key)  # split by source partition, as faust's
    assert not store.contains(1, "stripe:evt_10", store.key("stripe:evt_10"))
