"""Accounting for one simulator run: every accepted event lands exactly once somewhere.

Pure: the counts come in, the verdict goes out, so the rules are tested without servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from contracts.lifecycle import PaymentStatus


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What the simulator did and what each stage of the pipeline holds for its events."""

    sent: int
    accepted: int
    rejected: int
    errors: int
    unique_valid: int  # distinct valid events generated (duplicates excluded)
    duplicates: int  # re-sent copies of valid events
    invalid: int  # events made invalid on purpose
    deduplicated: int  # copies the normalizer dropped
    dead_lettered: int  # records on payments.validation.dlq for this run
    rows_by_completed_workflows: int  # rows whose writing workflow (per event or batch) completed
    pg_rows: int
    quarantine_rows: int
    iceberg_rows: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    report: dict
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(c: RunCounts) -> Reconciliation:
    """Check that accepted == persisted + quarantined, with nothing twice.

    Invalid events either are refused at the gateway (not JSON: a 400) or reach
    quarantine, so the accepted invalid ones are ``invalid - rejected``.
    """
    problems: list[str] = []
    accepted_invalid = c.invalid - c.rejected
    lost = max(0, c.unique_valid - c.pg_rows) + max(0, accepted_invalid - c.quarantine_rows)
    doubled = max(0, c.pg_rows - c.unique_valid) + max(0, c.quarantine_rows - accepted_invalid)
    if c.errors:
        problems.append(f"{c.errors} webhooks got no answer (transport errors)")
    if c.accepted + c.rejected + c.errors != c.sent:
        problems.append(f"sent {c.sent} != accepted {c.accepted} + rejected {c.rejected} "
                        f"+ errors {c.errors}")
    if accepted_invalid < 0:
        problems.append(f"{c.rejected} rejected but only {c.invalid} invalid events were sent")
    if lost:
        problems.append(f"{lost} accepted events are in neither payment_events nor quarantine")
    if doubled:
        problems.append(f"{doubled} more rows than distinct accepted events")
    if c.iceberg_rows != c.pg_rows:
        problems.append(f"Iceberg holds {c.iceberg_rows} rows, PostgreSQL {c.pg_rows}")
    if c.rows_by_completed_workflows < c.pg_rows:
        problems.append(f"only {c.rows_by_completed_workflows} of {c.pg_rows} rows were written "
                        "by a workflow that completed")
    report = asdict(c) | {"lost": lost, "doubled": doubled}
    return Reconciliation(report, problems)


def format_payment_states(by_status: Mapping[str, int]) -> list[str]:
    """The lines that say how many payments are in each state, and in all.

    Every lifecycle status is listed in its order (a zero says so too), then any status the
    table holds that the lifecycle does not name, so that none is hidden.
    """
    known = [status.value for status in PaymentStatus]
    others = sorted(set(by_status) - set(known))
    total = sum(by_status.values())
    width = max(len(status) for status in [*known, *others, "total"])
    digits = len(str(total))
    lines = ["payments by state (PostgreSQL payments table):"]
    for status in [*known, *others]:
        count = by_status.get(status, 0)
        share = f"{100 * count / total:5.1f}%" if total else "    -"
        lines.append(f"  {status:{width}}  {count:>{digits}}  {share}")
    lines.append(f"  {'total':{width}}  {total:>{digits}}")
    return lines
