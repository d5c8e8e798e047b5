"""Silver and gold transforms: pure functions from Arrow tables to Arrow tables.

silver.payment_events and the gold marts are here; silver.payments, each payment's current
state, is folded in ``batch.payment_states``.

DuckDB runs in memory here, on the Arrow tables it is handed; nothing is read or
written. Amounts stay integer minor units and are never added across currencies.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from contracts.events import FAILURE_EVENT_TYPES, SUCCESS_EVENT_TYPES


def _sql_list(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


_OUTCOME = (
    f"CASE WHEN event_type IN ({_sql_list(SUCCESS_EVENT_TYPES)}) THEN 'succeeded' "
    f"WHEN event_type IN ({_sql_list(FAILURE_EVENT_TYPES)}) THEN 'failed' ELSE 'other' END"
)


# The columns each layer's transforms read, so a scan reads no other column.
BRONZE_COLUMNS_FOR_SILVER = ("event_id", "provider", "event_type", "provider_created_at",
                             "merchant_id", "customer_id", "currency", "amount_cents", "status",
                             "failure_code", "fraud_risk_level", "validation_status")
SILVER_COLUMNS_FOR_GOLD = ("event_date", "provider", "outcome", "merchant_id", "currency",
                           "amount_cents", "failure_code", "fraud_risk_level")


def run_sql(sql: str, **tables: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        # Days are UTC days, whatever the host's zone.
        con.execute("SET TimeZone = 'UTC'")
        for name, table in tables.items():
            con.register(name, table)
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def build_silver_payment_events(bronze: pa.Table) -> pa.Table:
    """Valid events with their UTC day and outcome; the base every gold mart is built on."""
    return run_sql(
        f"""
        SELECT event_id, provider, event_type, {_OUTCOME} AS outcome,
               CAST(provider_created_at AS DATE) AS event_date,
               merchant_id, customer_id, currency, amount_cents, status, failure_code,
               coalesce(fraud_risk_level, 'unscored') AS fraud_risk_level
        FROM bronze WHERE validation_status = 'valid'
        ORDER BY event_date, event_id
        """,
        bronze=bronze,
    )


def build_daily_payments(silver: pa.Table) -> pa.Table:
    """Daily counts and minor-unit amounts per merchant and currency."""
    return run_sql(
        """
        SELECT event_date, merchant_id, currency,
               count(*)::BIGINT AS event_count,
               count(*) FILTER (WHERE outcome = 'succeeded')::BIGINT AS succeeded_count,
               coalesce(sum(amount_cents) FILTER (WHERE outcome = 'succeeded'), 0)::BIGINT
                   AS succeeded_amount_minor,
               count(*) FILTER (WHERE outcome = 'failed')::BIGINT AS failed_count,
               coalesce(sum(amount_cents) FILTER (WHERE outcome = 'failed'), 0)::BIGINT
                   AS failed_amount_minor
        FROM silver
        GROUP BY event_date, merchant_id, currency
        ORDER BY event_date, merchant_id, currency
        """,
        silver=silver,
    )


def build_failure_rates(silver: pa.Table) -> pa.Table:
    """Each day, the share of each provider's payment attempts that failed with each code."""
    return run_sql(
        """
        WITH attempts AS (
            SELECT event_date, provider, count(*) AS attempts FROM silver
            WHERE outcome IN ('succeeded', 'failed') GROUP BY event_date, provider
        )
        SELECT s.event_date, s.provider, coalesce(s.failure_code, 'unknown') AS failure_code,
               count(*)::BIGINT AS failures, a.attempts::BIGINT AS attempts,
               count(*) / a.attempts AS failure_rate
        FROM silver s JOIN attempts a USING (event_date, provider)
        WHERE s.outcome = 'failed'
        GROUP BY s.event_date, s.provider, coalesce(s.failure_code, 'unknown'), a.attempts
        ORDER BY s.event_date, s.provider, failure_code
        """,
        silver=silver,
    )


def build_fraud_risk_distribution(silver: pa.Table) -> pa.Table:
    """How each day's events spread over the fraud risk levels."""
    return run_sql(
        """
        SELECT event_date, fraud_risk_level, count(*)::BIGINT AS event_count,
               count(*) / sum(count(*)) OVER (PARTITION BY event_date) AS share
        FROM silver
        GROUP BY event_date, fraud_risk_level
        ORDER BY event_date, fraud_risk_level
        """,
        silver=silver,
    )


def find_daily_payments_mismatches(daily: pa.Table, bronze: pa.Table) -> list[dict]:
    """Currencies whose mart totals differ from the valid bronze rows; empty when they agree."""
    silver = build_silver_payment_events(bronze)
    rows = run_sql(
        """
        WITH expected AS (
            SELECT currency, count(*)::BIGINT AS events,
                   coalesce(sum(amount_cents) FILTER (WHERE outcome = 'succeeded'), 0)::BIGINT
                       AS succeeded_amount,
                   coalesce(sum(amount_cents) FILTER (WHERE outcome = 'failed'), 0)::BIGINT
                       AS failed_amount
            FROM silver GROUP BY currency
        ), actual AS (
            SELECT currency, sum(event_count)::BIGINT AS events,
                   sum(succeeded_amount_minor)::BIGINT AS succeeded_amount,
                   sum(failed_amount_minor)::BIGINT AS failed_amount
            FROM daily GROUP BY currency
        )
        SELECT coalesce(e.currency, a.currency) AS currency,
               e.events AS expected_events, a.events AS mart_events,
               e.succeeded_amount AS expected_succeeded_amount,
               a.succeeded_amount AS mart_succeeded_amount,
               e.failed_amount AS expected_failed_amount, a.failed_amount AS mart_failed_amount
        FROM expected e FULL OUTER JOIN actual a USING (currency)
        WHERE e.events IS DISTINCT FROM a.events
           OR e.succeeded_amount IS DISTINCT FROM a.succeeded_amount
           OR e.failed_amount IS DISTINCT FROM a.failed_amount
        ORDER BY currency
        """,
        silver=silver, daily=daily,
    )
    return rows.to_pylist()


def count_duplicate_keys(table: pa.Table, key: str = "event_id") -> int:
    """How many key values appear more than once."""
    rows = run_sql(
        f"SELECT count(*) AS n FROM (SELECT {key} FROM t GROUP BY {key} HAVING count(*) > 1)",
        t=table.select([key]),
    )
    return rows.column("n")[0].as_py()


def count_null_keys(table: pa.Table, keys: tuple[str, ...]) -> dict[str, int]:
    return {key: table.column(key).null_count for key in keys}
