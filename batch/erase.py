"""Erase one customer from PostgreSQL and the lakehouse, and audit it (issue 18, item 3).

    python -m batch.erase --customer <customer_id> [--dry-run]

Settings: ERASURE_POSTGRES_DSN (the payments_eraser role), ERASURE_IDENTITY (optional: who
the audit names instead of the OS account), the batch catalog's BATCH_CATALOG_URI and
warehouse, and BATCH_ORPHAN_MIN_AGE_SECONDS. `.stack/env` holds the local stack's. A dry run
counts what would go and changes nothing. The output names the customer by digest only.
Exit status: 0 done, 1 the erasure failed (audited; run it again), 2 bad input or settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial

import psycopg2  # installed with the SQL catalog (pyiceberg[sql-postgres])

from batch.erasure.audits import ErasureRecord, InvalidOperatorError, resolve_operator
from batch.erasure.runs import erase_customer
from batch.erasure.settings import ErasureSettings
from batch.lake_settings import LakeConfigError, load_lake_settings
from batch.resources import PyIcebergCatalogResource
from batch.settings import BatchConfigError
from contracts.erasure import InvalidCustomerIdError


def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn)
    conn.autocommit = autocommit
    return conn


def summary(record: ErasureRecord, dry_run: bool) -> dict:
    """What the operator sees: the audit record's counts, never the id."""
    return {
        "erasure_id": None if dry_run else record.erasure_id,
        "dry_run": dry_run, "customer_sha256": record.customer_sha256,
        "operator": record.operator, "postgres_rows": record.postgres_rows,
        "lake_rows": record.lake_rows,
        "snapshots_expired": {k: len(v) for k, v in record.snapshots_expired.items()},
        "files_removed": {k: len(v) for k, v in record.files_removed.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customer", required=True, help="the customer id, as events carry it")
    parser.add_argument("--dry-run", action="store_true",
                        help="count what would be erased; change nothing")
    args = parser.parse_args(argv)
    try:
        settings, lake = ErasureSettings(), load_lake_settings()
        dsn = settings.postgres_dsn()
        operator = resolve_operator(settings.IDENTITY)
        catalog = PyIcebergCatalogResource().load()
    except (BatchConfigError, LakeConfigError, InvalidOperatorError, ValueError) as err:
        print(f"erase: invalid configuration: {err}", file=sys.stderr)
        return 2
    try:
        record = erase_customer(args.customer, connect=partial(connect, dsn),
                                lock=partial(connect, dsn, autocommit=True), catalog=catalog,
                                operator=operator,
                                orphan_min_age_s=lake.ORPHAN_MIN_AGE_SECONDS,
                                dry_run=args.dry_run)
    except InvalidCustomerIdError as err:
        print(f"erase: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # the audit names the class; so does this line, never the text
        print(f"erase: failed ({type(err).__name__}); the failure is audited, run it again",
              file=sys.stderr)
        return 1
    print(json.dumps(summary(record, args.dry_run), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
