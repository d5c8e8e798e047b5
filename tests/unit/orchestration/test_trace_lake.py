"""The trace's Iceberg reader against a real PyIceberg SQL catalog (SQLite, in a temporary
folder): found, not yet loaded, and no table yet."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog import load_catalog

from contracts.storage import LAKE_PAYMENT_EVENTS, LAKE_QUARANTINE
from orchestration.tracing.lake import LakeReader


async def test_the_lake_reader_tells_loaded_from_not_yet(tmp_path):
    props = {"type": "sql", "uri": f"sqlite:///{tmp_path}/catalog.db",
             "warehouse": tmp_path.as_uri()}
    catalog = load_catalog("lakehouse", **props)
    catalog.create_namespace(LAKE_PAYMENT_EVENTS[0])
    rows = pa.table({"event_id": pa.array(["stripe:evt_a", "stripe:evt_b"], pa.string())})
    catalog.create_table(LAKE_PAYMENT_EVENTS, schema=rows.schema).append(rows)

    reader = await LakeReader.connect("lakehouse", {**props, "init_catalog_tables": "false"}, 30)
    loaded = await reader.holds(LAKE_PAYMENT_EVENTS, ["stripe:evt_b"], True)
    assert loaded.lookup.label == "found (1 row)"
    assert loaded.table == "bronze.payment_events"
    pending = await reader.holds(LAKE_PAYMENT_EVENTS, ["stripe:evt_c"], True)
    assert pending.lookup.label == "not found (not yet: the next lakehouse_job run loads it)"
    absent = await reader.holds(LAKE_PAYMENT_EVENTS, ["stripe:evt_c"], False)
    assert absent.lookup.label == "not found (not in PostgreSQL either)"
    no_table = await reader.holds(LAKE_QUARANTINE, ["stripe:evt_c"], True)
    assert no_table.lookup.label == "not found (the table does not exist yet)"
