"""A trace as text for a person, or as JSON for a tool. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orchestration.trace_report import (
    DeadLetterCopy,
    EventTrace,
    KafkaCopy,
    LakeFinding,
    Lookup,
    PaymentTrace,
    Rows,
    WorkflowFinding,
)

# The columns each section shows, in this order; the JSON carries every column read.
EVENT_COLUMNS = ("event_type", "status", "amount_cents", "currency", "validation_status",
                 "fraud_risk_level", "retry_action", "provider_created_at", "ingested_at")
PAYMENT_COLUMNS = ("status", "currency", "amount", "amount_captured", "amount_refunded",
                   "amount_disputed", "last_event_id", "last_event_at", "updated_at")
QUARANTINE_COLUMNS = ("review_status", "error_codes", "reviewer", "decision_reason",
                      "source_topic", "source_partition", "source_offset", "quarantined_at",
                      "reviewed_at")


def to_json(trace: PaymentTrace) -> dict[str, Any]:
    """The trace as JSON-ready data: every dataclass as an object, each lookup with its
    label, datetimes as RFC 3339."""
    return _plain(trace)


def _plain(value: Any) -> Any:
    if isinstance(value, Lookup):
        return {"state": value.state, "why": value.why, "label": value.label}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        # What the text shows of a record is worked out from it; a tool gets it too.
        if isinstance(value, KafkaCopy):
            plain.update(coordinates=value.coordinates, origin=value.origin)
        elif isinstance(value, DeadLetterCopy):
            plain["why"] = value.why
        return plain
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def render_text(trace: PaymentTrace) -> str:
    lines = [f"trace of {trace.query} ({trace.kind})"]
    if trace.note:
        lines.append(f"  note: {trace.note}")
    title = f"payment {trace.provider}:{trace.payment_id}" if trace.payment_id else "payment"
    lines += _section(title, trace.payment, PAYMENT_COLUMNS)
    if trace.mentions.rows:
        lines += _section("quarantined events whose payload mentions it", trace.mentions,
                          ("event_id", *QUARANTINE_COLUMNS[:2]))
    for event in trace.events:
        lines += [""] + _event_lines(event)
    return "\n".join(lines)


def _event_lines(event: EventTrace) -> list[str]:
    lines = [f"== event {event.event_id} =="]
    receipt = event.receipt
    lines.append(f"[gateway receipt] {receipt.lookup.label}")
    for n, copy in enumerate(receipt.copies, 1):
        lines.append(f"  copy {n}: {_copy(copy)} request_id={copy.headers.get('request_id', '-')}"
                     f" received_at={copy.headers.get('received_at', '-')} origin={copy.origin}")
    for copy in receipt.refused:
        lines.append(f"  refused to webhooks.dlq: {_copy(copy)} "
                     f"reason={copy.headers.get('reason', '-')} "
                     f"request_id={copy.headers.get('request_id', '-')}")
    lines += [f"  searched {scan.label}" for scan in receipt.scans]

    normalizer = event.normalizer
    lines.append(f"[normalizer] {normalizer.lookup.label}: {normalizer.verdict.replace('_', ' ')}")
    if normalizer.detail:
        lines.append(f"  {normalizer.detail}")
    lines += [f"  output: {_copy(copy)}" for copy in normalizer.outputs]
    lines += [f"  dead letter: {_copy(letter.record)} id={letter.event_id} from {letter.source}: "
              f"{letter.why}" for letter in normalizer.dead_letters]
    lines += [f"  searched {scan.label}" for scan in normalizer.scans]

    for workflow in event.workflows:
        lines += _workflow_lines(workflow)
    lines += _section("payment_events", event.event_rows, EVENT_COLUMNS)
    lines += _section("quarantine", event.quarantine, QUARANTINE_COLUMNS)
    lines += [_lake_line(finding) for finding in event.lake]
    return lines


def _workflow_lines(workflow: WorkflowFinding) -> list[str]:
    lines = [f"[workflow {workflow.workflow_type}] {workflow.lookup.label}: {workflow.workflow_id}"]
    if workflow.status:
        lines.append(f"  status={workflow.status} run_id={workflow.run_id} "
                     f"started={_value(workflow.start_time)} closed={_value(workflow.close_time)}")
    if workflow.ui_link and workflow.status:
        lines.append(f"  {workflow.ui_link}")
    return lines


def _section(title: str, rows: Rows, columns: tuple[str, ...]) -> list[str]:
    lines = [f"[{title}] {rows.lookup.label}"]
    for row in rows.rows:
        lines.append("  " + " ".join(f"{c}={_value(row.get(c))}" for c in columns if c in row))
    return lines


def _lake_line(finding: LakeFinding) -> str:
    return f"[iceberg {finding.table}] {finding.lookup.label}"


def _copy(copy: KafkaCopy) -> str:
    return f"{copy.coordinates} at {_value(copy.timestamp)}"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
