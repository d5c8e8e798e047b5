"""The PostgreSQL side of an erasure, as the payments_eraser role, in one transaction.

The transaction first locks the three tables against writers (SHARE ROW EXCLUSIVE: reads go
on, inserts and updates wait, and so does a second erasure). A worker's insert of one of the
customer's events therefore either committed before, and is deleted here, or runs after, and
finds the digest this transaction adds (orchestration/store.py checks it after its insert).
Then ``payments`` rows of the customer's payments, the events (the customer's, and every
event naming one of those payments) and the quarantine rows whose payload names the customer
go. A dry run does the same and rolls back, so its counts are the real ones.
"""

from __future__ import annotations

import pyarrow as pa

from batch.erasure.scopes import QUARANTINE_TEXT_COLUMNS, quarantine_in_scope

TABLES = ("payment_events", "payments", "payment_events_quarantine")
_LOCK = f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE"
_TOMBSTONE = ("INSERT INTO erased_customers (customer_sha256) VALUES (%(digest)s) "
              "ON CONFLICT (customer_sha256) DO NOTHING")
_OWN_PAYMENTS = ("SELECT provider, payment_id FROM payment_events "
                 "WHERE customer_id = %(customer)s AND payment_id IS NOT NULL")
_DELETE_PAYMENTS = (f"DELETE FROM payments WHERE (provider, payment_id) IN ({_OWN_PAYMENTS}) "
                    "RETURNING provider, payment_id")
_DELETE_EVENTS = ("DELETE FROM payment_events WHERE customer_id = %(customer)s "
                  f"OR (provider, payment_id) IN ({_OWN_PAYMENTS})")
# Read a page at a time: quarantine is scanned whole, as only Python reads its payloads.
_QUARANTINE_PAGE = 5_000
_SELECT_QUARANTINE = ("SELECT event_id, original_payload, corrected_event::text "
                      "FROM payment_events_quarantine")
_DELETE_QUARANTINE = "DELETE FROM payment_events_quarantine WHERE event_id = ANY(%(ids)s)"


def quarantine_matches(conn, customer_id: str) -> list[str]:
    """Event ids of the quarantine rows whose payload or correction names the customer."""
    found: list[str] = []
    with conn.cursor(name="erasure_quarantine") as cur:  # server-side: pages, not all rows
        cur.itersize = _QUARANTINE_PAGE
        cur.execute(_SELECT_QUARANTINE)
        while rows := cur.fetchmany(_QUARANTINE_PAGE):
            ids, payloads, corrections = zip(*rows, strict=True)
            page = pa.table({"event_id": list(ids),
                             QUARANTINE_TEXT_COLUMNS[0]: list(payloads),
                             QUARANTINE_TEXT_COLUMNS[1]: pa.array(corrections, pa.string())})
            found += quarantine_in_scope(page, customer_id)
    return found


def erase_postgres(conn, customer_id: str, digest: str,
                   dry_run: bool = False) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Rows deleted per table, and the (provider, payment_id) of the payments deleted.

    ``conn`` is a psycopg2 connection as the eraser role; it is committed (or, for a dry
    run, rolled back) here.
    """
    params = {"customer": customer_id, "digest": digest}
    try:
        with conn.cursor() as cur:
            cur.execute(_LOCK)
            cur.execute(_TOMBSTONE, params)
            # Payments first: they are found through the events deleted next.
            cur.execute(_DELETE_PAYMENTS, params)
            keys = {(provider, payment_id) for provider, payment_id in cur.fetchall()}
            counts = {"payments": len(keys)}
            cur.execute(_DELETE_EVENTS, params)
            counts["payment_events"] = cur.rowcount
        ids = quarantine_matches(conn, customer_id)
        with conn.cursor() as cur:
            if ids:
                cur.execute(_DELETE_QUARANTINE, {"ids": ids})
            counts["payment_events_quarantine"] = cur.rowcount if ids else 0
    except BaseException:
        conn.rollback()
        raise
    if dry_run:
        conn.rollback()
    else:
        conn.commit()
    return counts, keys
