"""Query the lakehouse with SQL: PyIceberg reads the tables a query names, DuckDB runs it.

    python -m batch.sql "SELECT currency, sum(event_count) AS events
                         FROM gold.daily_payments GROUP BY currency ORDER BY events DESC"
    python -m batch.sql --csv "SELECT * FROM gold.failure_rates" > failure_rates.csv

Nothing is downloaded at run time: DuckDB's iceberg extension is not used, and its automatic
extension install is switched off. PyIceberg opens the catalog the assets use (the BATCH_*
settings) and hands DuckDB each table the query names as Arrow, at its current snapshot, all
of its rows. A table is named ``namespace.table``, or by its name alone when only one
namespace has a table of that name (``daily_payments``, but not ``payment_events``).
"""

from __future__ import annotations

import argparse
import re
import sys

import duckdb
import pyarrow as pa
import pyarrow.csv
from pyiceberg.catalog import Catalog

from batch.resources import PyIcebergCatalogResource

Identifier = tuple[str, str]


def list_lake_tables(catalog: Catalog) -> list[Identifier]:
    return sorted((namespace[0], identifier[-1])
                  for namespace in catalog.list_namespaces()
                  for identifier in catalog.list_tables(namespace))


def find_named_tables(sql: str, tables: list[Identifier]) -> dict[str, Identifier]:
    """The lakehouse tables ``sql`` names: SQL name -> identifier.

    A plain text match (a name inside a string or comment counts too, which only means a
    table read for nothing); names are case-insensitive, as unquoted SQL names are.
    """
    found: dict[str, Identifier] = {}
    by_name: dict[str, list[Identifier]] = {}
    for namespace, name in tables:
        by_name.setdefault(name.lower(), []).append((namespace, name))
        if re.search(rf"(?<![\w.]){re.escape(namespace)}\.{re.escape(name)}(?!\w)", sql, re.I):
            found[f"{namespace}.{name}"] = (namespace, name)
    for name, owners in by_name.items():
        if len(owners) == 1 and re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", sql, re.I):
            found[name] = owners[0]
    return found


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    # Dates and days are UTC, as in the marts, whatever the host's zone.
    con.execute("SET TimeZone = 'UTC'")
    return con


def attach_tables(con: duckdb.DuckDBPyConnection, catalog: Catalog,
                  named: dict[str, Identifier]) -> None:
    """Make each named table queryable under its SQL name, read once through PyIceberg."""
    arrow: dict[Identifier, str] = {}
    for sql_name, identifier in sorted(named.items(), key=lambda item: "." not in item[0]):
        if identifier not in arrow:
            arrow[identifier] = f"_lake_{identifier[0]}_{identifier[1]}"
            con.register(arrow[identifier], catalog.load_table(identifier).scan().to_arrow())
        if "." in sql_name:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{identifier[0]}"')
            con.execute(f'CREATE VIEW "{identifier[0]}"."{identifier[1]}" AS '
                        f'SELECT * FROM "{arrow[identifier]}"')
        else:
            con.execute(f'CREATE VIEW "{identifier[1]}" AS SELECT * FROM "{arrow[identifier]}"')


def run_query(catalog: Catalog, sql: str) -> pa.Table:
    """The result of ``sql`` over the lakehouse's current tables."""
    con = connect_duckdb()
    try:
        attach_tables(con, catalog, find_named_tables(sql, list_lake_tables(catalog)))
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sql", help="one query; tables as namespace.table (gold.daily_payments)")
    parser.add_argument("--csv", action="store_true", help="write CSV to stdout, not a table")
    parser.add_argument("--max-rows", type=int, default=50, help="rows shown (default 50)")
    args = parser.parse_args(argv)
    catalog = PyIcebergCatalogResource().load()
    try:
        result = run_query(catalog, args.sql)
    except duckdb.Error as exc:
        tables = ", ".join(".".join(t) for t in list_lake_tables(catalog)) or "none yet"
        print(f"batch.sql: {exc}\nlakehouse tables: {tables}", file=sys.stderr)
        return 2
    if args.csv:
        pyarrow.csv.write_csv(result, sys.stdout.buffer)
    else:
        con = connect_duckdb()
        con.register("result", result)
        con.sql("SELECT * FROM result").show(max_rows=args.max_rows, max_width=160)
        print(f"({result.num_rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
