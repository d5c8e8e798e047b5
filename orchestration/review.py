"""`python -m orchestration.review`: list quarantined events, approve or reject them.

    python -m orchestration.review list [--status pending]
    python -m orchestration.review approve <event_id> --reviewer X [--corrected-event-file f.json]
    python -m orchestration.review reject <event_id> --reviewer X --reason "..."

Decisions go to the event's DLQReviewWorkflow (id ``dlq-review:<event_id>``) as a
``review_decision`` signal; the workflow updates the quarantine row and re-drives an
approved event. A corrected event is checked here first, so a reviewer hears at once
about a correction the payment_events table would refuse.
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
from orchestration import rules
from orchestration.models import ReviewDecision
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
    approve = commands.add_parser("approve", help="re-drive an event into the normal flow")
    approve.add_argument("event_id")
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--corrected-event-file", type=Path)
    approve.add_argument("--reason")
    reject = commands.add_parser("reject", help="close a quarantined event")
    reject.add_argument("event_id")
    reject.add_argument("--reviewer", required=True)
    reject.add_argument("--reason", required=True)
    return parser.parse_args(argv)


def _dead_letter_of(row: dict) -> DeadLetter:
    return DeadLetter(
        event_id=row["event_id"], source_topic=row["source_topic"],
        source_partition=row["source_partition"], source_offset=row["source_offset"],
        payload=row["original_payload"], payload_encoding=row["payload_encoding"],
        errors=[ValidationIssue(**e) for e in row["errors"]], failed_at=row["quarantined_at"],
    )


def check_correction(row: dict, corrected_file: Path | None) -> dict | None:
    """The corrected event to send (None: the original payload is used as it is)."""
    if corrected_file is None:
        data = rules.read_original_payload(_dead_letter_of(row))
    else:
        data = json.loads(corrected_file.read_text())
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
        await client.get_workflow_handle(f"dlq-review:{args.event_id}").signal(
            "review_decision", decision)
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = OrchestratorSettings()
    command = list_quarantine if args.command == "list" else decide
    try:
        print(asyncio.run(command(args, settings)))
    except ReviewRefusedError as err:
        print(f"review: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
