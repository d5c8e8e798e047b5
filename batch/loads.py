"""Exactly-once incremental load of one PostgreSQL table into its Iceberg bronze table.

Migration 010 stamps every row version with its writer's transaction id (lake_xid).
A load reads, in one REPEATABLE READ snapshot, that snapshot's xmin and the rows with
``watermark <= lake_xid < xmin``: all their writers have finished, and any writer still
running has an xid at or above xmin, so its rows fall into a later load however late it
commits. The rows and the new watermark (xmin) go into Iceberg in one commit; PostgreSQL
is never written, so a failed commit marks nothing and a crash after it repeats nothing.
Rows created below the old watermark are already in Iceberg and are replaced by event_id.
The rows stream from ADBC as Arrow and are written to Parquet chunk by chunk while the
next chunk arrives; only the single commit at the end makes any of them visible.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import schema_to_pyarrow

from batch.erasure.scopes import CUSTOMER_COLUMN, drop_erased
from batch.lake import commit_load, ensure_bronze_table, read_watermark, write_data_files
from batch.schemas import BronzeTable

# An ADBC DB-API connection in autocommit mode (batch.resources opens it).
ConnectPostgres = Callable[[], object]

_REPLACES = "lake_replaces"
# Rows per Parquet write: big enough for few files, small enough that writing one chunk
# overlaps with PostgreSQL sending the next.
CHUNK_ROWS = 250_000


@dataclass(frozen=True, slots=True)
class LoadResult:
    table: str
    rows: int
    replaced: int
    watermark_from: int
    watermark_to: int


@dataclass(frozen=True, slots=True)
class PendingRows:
    table: str
    count: int
    max_xid: int
    watermark: int


def extract_sql(spec: BronzeTable, low: int, high: int) -> str:
    # Integers only are formatted in; ADBC's parameter binding has no xid8.
    return (
        f"SELECT {spec.select_list()}, (lake_created_xid < '{int(low)}'::xid8) AS {_REPLACES} "
        f"FROM {spec.pg_table} "
        f"WHERE lake_xid >= '{int(low)}'::xid8 AND lake_xid < '{int(high)}'::xid8"
    )


@contextmanager
def hold_load_lock(cursor, spec: BronzeTable):
    """Serialise loaders of one table: two at once would both read the same watermark."""
    key = f"lake-load:{spec.pg_table}"
    cursor.execute(f"SELECT pg_advisory_lock(hashtext('{key}'))")
    cursor.fetchall()
    try:
        yield
    finally:
        cursor.execute(f"SELECT pg_advisory_unlock(hashtext('{key}'))")
        cursor.fetchall()


def rechunk(reader, rows: int) -> Iterator[pa.Table]:
    """Regroup a record-batch stream into tables of about ``rows`` rows."""
    pending, count = [], 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def prefetch(items: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Pull the next item in a thread while the caller works on this one."""
    slots: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                # After the consumer gave up, read on to the end: the stream must be
                # finished before the connection can run COMMIT.
                if not stop.is_set():
                    slots.put(item)
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)

    worker = threading.Thread(target=produce, name="lake-extract", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The connection is only used again once the producer has let go of it.
        stop.set()
        while worker.is_alive():
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()


@dataclass(frozen=True, slots=True)
class Extracted:
    xmin: int
    rows: int
    data_files: list
    replace_keys: list[str]
    erased: int = 0  # rows left out as an erased customer's


def read_erased(cursor, spec: BronzeTable) -> frozenset[str]:
    """The digests of erased customers (batch.erasure), for a table with a customer column."""
    if CUSTOMER_COLUMN not in {name for name, _, _ in spec.columns}:
        return frozenset()
    cursor.execute("SELECT customer_sha256 FROM erased_customers")
    return frozenset(digest for (digest,) in cursor.fetchall())


def extract_and_write(cursor, table, spec: BronzeTable, watermark: int) -> Extracted:
    """Stream the row versions in [watermark, xmin) of one snapshot into uncommitted files.

    Rows of an erased customer are left out, whatever the watermark: a restored backup or a
    re-inserted row must not bring them back (the digests are read in the same snapshot).
    """
    cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        (xmin,) = cursor.fetchone()
        erased = read_erased(cursor, spec)
        cursor.execute(extract_sql(spec, watermark, xmin))
        data_files, replace_keys, rows, left_out = [], [], 0, 0
        for chunk in prefetch(rechunk(cursor.fetch_record_batch(), CHUNK_ROWS)):
            kept = drop_erased(chunk, erased)
            left_out += chunk.num_rows - kept.num_rows
            shaped, keys = shape_rows(kept, spec)
            data_files += write_data_files(table, shaped)
            replace_keys += keys
            rows += shaped.num_rows
    finally:
        cursor.execute("COMMIT")
    return Extracted(xmin, rows, data_files, replace_keys, left_out)


def shape_rows(rows: pa.Table, spec: BronzeTable) -> tuple[pa.Table, list[str]]:
    """Cast to the Iceberg schema and split out the keys that replace existing rows."""
    replaces = rows.column(_REPLACES)
    replace_keys = pc.filter(rows.column("event_id"), replaces).to_pylist()
    return rows.drop_columns([_REPLACES]).cast(arrow_schema(spec)), replace_keys


def arrow_schema(spec: BronzeTable) -> pa.Schema:
    """The Iceberg schema in Arrow, with ``string`` where PyIceberg says ``large_string``.

    Both hold the same values and are written to Parquet alike; widening the offsets
    would copy every text column of every row (a third of the loader's own CPU).
    """
    target = schema_to_pyarrow(spec.schema, include_field_ids=False)
    return pa.schema([f.with_type(pa.string()) if f.type == pa.large_string() else f
                      for f in target])


def load_bronze_table(catalog: Catalog, connect: ConnectPostgres,
                      spec: BronzeTable) -> LoadResult:
    """Load every row version not yet in Iceberg, exactly once."""
    table = ensure_bronze_table(catalog, spec)
    conn = connect()
    try:
        cursor = conn.cursor()
        with hold_load_lock(cursor, spec):
            table = catalog.load_table(spec.identifier)
            watermark = read_watermark(table)
            out = extract_and_write(cursor, table, spec, watermark)
            if out.rows == 0 and out.erased == 0:
                # Nothing to write; the watermark stays, as it only ever moves with rows (or
                # past rows left out as erased, which would otherwise count as pending).
                return LoadResult(spec.pg_table, 0, 0, watermark, watermark)
            commit_load(table, out.data_files, out.replace_keys, out.xmin)
            return LoadResult(spec.pg_table, out.rows, len(out.replace_keys), watermark,
                              out.xmin)
    finally:
        conn.close()


def count_pending_rows(catalog: Catalog, connect: ConnectPostgres,
                       spec: BronzeTable) -> PendingRows:
    """Row versions a load would take now (their writers have all finished)."""
    watermark = read_watermark(ensure_bronze_table(catalog, spec))
    conn = connect()
    try:
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT count(*), coalesce(max(lake_xid)::text, '0')::bigint FROM {spec.pg_table} "
            f"WHERE lake_xid >= '{int(watermark)}'::xid8 "
            "AND lake_xid < pg_snapshot_xmin(pg_current_snapshot())"
        )
        count, max_xid = cursor.fetchone()
    finally:
        conn.close()
    return PendingRows(spec.pg_table, count, max_xid, watermark)


def count_loaded_source_rows(connect: ConnectPostgres, spec: BronzeTable,
                             watermark: int) -> int:
    """Rows PostgreSQL holds that a load up to ``watermark`` must have put in Iceberg."""
    conn = connect()
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT count(*) FROM {spec.pg_table} "
                       f"WHERE lake_created_xid < '{int(watermark)}'::xid8")
        (count,) = cursor.fetchone()
    finally:
        conn.close()
    return count
