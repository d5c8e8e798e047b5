"""`python -m orchestration.review`: review quarantined events; re-drive failed workflows.

    python -m orchestration.review list [--status pending]
    python -m orchestration.review show <event_id> [--output original.bin]
    python -m orchestration.review approve <event_id> --reviewer X [--corrected-event-file f.json]
    python -m orchestration.review reject <event_id> --reviewer X --reason "..."
    python -m orchestration.review failed [--type DLQReviewWorkflow] [--task-queue payments]
    python -m orchestration.review redrive <workflow_id>... | --all [--type ...] [--task-queue ...]

Quarantine keeps a redacted excerpt of each payload; ``show`` reads the original from its
raw-topic coordinates while the topic keeps it (orchestration/review_show.py).
Decisions go to the event's DLQReviewWorkflow (id ``dlq-review:<event_id>``) as a
``review_decision`` signal; the workflow updates the quarantine row and re-drives an
approved event. A corrected event is checked here first, so a reviewer hears at once
about a correction the payment_events table would refuse.

``failed`` lists the workflows (PaymentEventWorkflow unless --type says otherwise) whose
latest run failed, was terminated, timed out or was cancelled, with why; ``redrive``
starts a new run of each with its original input (orchestration/redrive.py). It exits 1
if a workflow it was given could not be re-driven.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

from contracts import DeadLetter, ValidationIssue
from contracts.privacy import protect_event_json
from contracts.workflows import (
    DLQ_REVIEW,
    REVIEW_DECISION_SIGNAL,
    WORKFLOW_TYPES,
    workflow_id,
)
from orchestration import redrive, review_show, rules
from orchestration.models import ReviewDecision
from orchestration.replay_settings import ReplaySettings
from orchestration.settings import OrchestratorSettings
from orchestration.store import PaymentStore, create_pool
from telemetry import exit_after_flush


class ReviewRefusedError(Exception):
    """The decision cannot be sent; the message says why."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration.review",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="quarantined events")
    listing.add_argument("--status", choices=["pending", "approved", "rejected", "expired"])
    listing.add_argument("--limit", type=int, default=100)
    show = commands.add_parser("show", help="the original payload, read from its raw topic")
    show.add_argument("event_id")
    show.add_argument("--output", type=Path, help="write the original's exact bytes here")
    approve = commands.add_parser("approve", help="re-drive an event into the normal flow")
    approve.add_argument("event_id")
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--corrected-event-file", type=Path)
    approve.add_argument("--reason")
    reject = commands.add_parser("reject", help="close a quarantined event")
    reject.add_argument("event_id")
    reject.add_argument("--reviewer", required=True)
    reject.add_argument("--reason", required=True)
    failed = commands.add_parser("failed", help="workflows whose latest run did not complete")
    redriven = commands.add_parser("redrive", help="start failed workflows again, same input")
    redriven.add_argument("workflow_ids", nargs="*", metavar="workflow_id")
    redriven.add_argument("--all", action="store_true", help="every workflow `failed` lists")
    for command in (failed, redriven):
        # Default: every type. A failed review is as stuck as a failed payment, and
        # `redrive --all` that skipped one would leave its dead letter out of quarantine.
        command.add_argument("--type", choices=WORKFLOW_TYPES,
                             help="one workflow type (default: every type)")
        command.add_argument("--task-queue")
        command.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.command == "redrive" and bool(args.workflow_ids) == args.all:
        parser.error("redrive takes workflow ids, or --all")
    return args


def _dead_letter_of(row: dict) -> DeadLetter:
    return DeadLetter(
        event_id=row["event_id"], source_topic=row["source_topic"],
        source_partition=row["source_partition"], source_offset=row["source_offset"],
        payload=row["original_payload"], payload_encoding=row["payload_encoding"],
        errors=[ValidationIssue(**e) for e in row["errors"]], failed_at=row["quarantined_at"],
        payload_sha256=row["payload_sha256"], payload_length=row["payload_length"],
        payload_truncated=row["payload_truncated"], payload_redaction=row["payload_redaction"],
    )


def check_correction(row: dict, corrected_file: Path | None) -> dict | None:
    """The corrected event to send (None: the original payload is used as it is)."""
    if corrected_file is None:
        data = rules.read_original_payload(_dead_letter_of(row))
    else:
        data = json.loads(corrected_file.read_text())
        if isinstance(data, dict):  # the review's history keeps only what an event may keep
            data = protect_event_json(data)
    event = rules.parse_payment_event(data)
    unstorable = rules.refuses_storage(rules.check_business_rules(event))
    if unstorable:
        raise ReviewRefusedError("corrected event would be refused by payment_events: "
                                 + "; ".join(i.message for i in unstorable))
    return None if corrected_file is None else data


async def decide(args: argparse.Namespace, settings: OrchestratorSettings) -> str:
    pool = await create_pool(settings.POSTGRES_DSN, 1, 2)
    try:
        row = await PaymentStore(pool).get_quarantine(args.event_id)
    finally:
        await pool.close()
    if row is None:
        raise ReviewRefusedError(f"{args.event_id} is not in quarantine")
    if row["review_status"] != "pending":
        raise ReviewRefusedError(f"{args.event_id} is already {row['review_status']}")
    corrected = None
    if args.command == "approve":
        try:
            corrected = check_correction(row, args.corrected_event_file)
        except (rules.CorrectedEventError, ValueError) as err:
            raise ReviewRefusedError(f"cannot approve: {err}") from err
    decision = ReviewDecision(args.command, args.reviewer, corrected, args.reason)
    client = await Client.connect(settings.TEMPORAL_TARGET, namespace=settings.TEMPORAL_NAMESPACE)
    try:
        await client.get_workflow_handle(workflow_id(DLQ_REVIEW, args.event_id)).signal(
            REVIEW_DECISION_SIGNAL, decision)
    except RPCError as err:
        raise ReviewRefusedError(f"no running review workflow for {args.event_id}: {err}") from err
    return f"{args.command} sent for {args.event_id} by {args.reviewer}"


async def list_quarantine(args: argparse.Namespace, settings: OrchestratorSettings) -> str:
    pool = await create_pool(settings.POSTGRES_DSN, 1, 2)
    try:
        rows = await PaymentStore(pool).list_quarantine(args.status, args.limit)
    finally:
        await pool.close()
    lines = [f"{'event_id':<48} {'status':<9} {'quarantined_at':<26} errors"]
    lines += [f"{r['event_id']:<48} {r['review_status']:<9} "
              f"{r['quarantined_at'].isoformat():<26} {','.join(r['error_codes'])}" for r in rows]
    return "\n".join(lines)


async def show_original(args: argparse.Namespace, settings: OrchestratorSettings) -> str:
    """The quarantined event's original, from its source coordinates (not from quarantine)."""
    pool = await create_pool(settings.POSTGRES_DSN, 1, 2)
    try:
        row = await PaymentStore(pool).get_quarantine(args.event_id)
    finally:
        await pool.close()
    if row is None:
        raise ReviewRefusedError(f"{args.event_id} is not in quarantine")
    kafka = ReplaySettings()
    try:
        original = await review_show.read_original(
            kafka.KAFKA_BOOTSTRAP_SERVERS, row["source_topic"], row["source_partition"],
            row["source_offset"], kafka.KAFKA_REQUEST_TIMEOUT_SECONDS)
    except review_show.OriginalUnavailableError as err:
        raise ReviewRefusedError(f"the original of {args.event_id} cannot be read: {err}; "
                                 "quarantine keeps only its redacted excerpt") from err
    if args.output is not None:
        return review_show.save(original, args.output)
    return review_show.render(row, original)


async def list_failed(args: argparse.Namespace, settings: OrchestratorSettings) -> str:
    client = await _connect(settings)
    failed = await _find_failed(client, args)
    lines = [f"{'workflow_id':<56} {'status':<10} {'closed_at':<26} {'task_queue':<16} reason"]
    for wf in failed:
        closed = wf.close_time.isoformat() if wf.close_time else "-"
        reason = (await redrive.close_reason(client, wf)).replace("\n", " ")[:160]
        lines.append(f"{wf.workflow_id:<56} {wf.status:<10} {closed:<26} {wf.task_queue:<16} "
                     f"{reason}")
    return "\n".join(lines)


async def redrive_failed(args: argparse.Namespace, settings: OrchestratorSettings) -> str:
    client = await _connect(settings)
    ids = args.workflow_ids or [wf.workflow_id for wf in await _find_failed(client, args)]
    results = [await redrive.redrive(client, wf_id) for wf_id in ids]
    lines = [f"{r.workflow_id}: {r.outcome.replace('_', ' ')}: {r.detail}" for r in results]
    refused = [r for r in results if r.outcome != "redriven" and args.workflow_ids]
    if refused:
        raise ReviewRefusedError("\n".join(lines))
    return "\n".join(lines) or "no failed workflows"


async def _find_failed(client: Client, args: argparse.Namespace) -> list[redrive.FailedWorkflow]:
    types = [args.type] if args.type else list(WORKFLOW_TYPES)
    return [wf for workflow_type in types
            for wf in await redrive.find_failed(client, workflow_type, args.task_queue,
                                                args.limit)]


async def _connect(settings: OrchestratorSettings) -> Client:
    return await Client.connect(settings.TEMPORAL_TARGET, namespace=settings.TEMPORAL_NAMESPACE)


COMMANDS = {"list": list_quarantine, "show": show_original, "approve": decide,
            "reject": decide, "failed": list_failed, "redrive": redrive_failed}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = OrchestratorSettings()
    command = COMMANDS[args.command]
    try:
        print(asyncio.run(command(args, settings)))
    except (ReviewRefusedError, RPCError) as err:
        print(f"review: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
