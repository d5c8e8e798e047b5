"""`python -m orchestration.review`: review quarantined events; re-drive failed workflows.

    python -m orchestration.review list [--status pending]
    python -m orchestration.review show <event_id> [--output original.bin]
    python -m orchestration.review approve <event_id> --reason "..." [--corrected-event-file f.json]
    python -m orchestration.review reject <event_id> --reason "..."
    python -m orchestration.review failed [--type DLQReviewWorkflow] [--task-queue payments]
    python -m orchestration.review redrive <workflow_id>... | --all [--type ...] [--task-queue ...]

``show`` reads a payload's original at its raw-topic coordinates while the topic keeps it
(quarantine keeps it redacted). Decisions go to the event's DLQReviewWorkflow (id ``dlq-
review:<event_id>``) as the ``review_decision`` update; the workflow writes the audit row,
updates the quarantine row and re-drives an approved event. The reviewer is whoever runs
this: the OS account of the real uid, or ORCHESTRATOR_REVIEWER_IDENTITY for a caller with no
person behind it; there is no option to name one. The decision is checked here first with
the workflow's own rules (orchestration.review_rules), so a reviewer hears at once that a
corrected event does not keep the dead letter's event id, or would be refused by
payment_events; the workflow checks again and its refusal is printed too.

``failed`` lists the workflows (PaymentEventWorkflow unless --type says otherwise) whose
latest run failed, was terminated, timed out or was cancelled, with why; ``redrive``
starts a new run of each with its original input (orchestration/redrive.py). It exits 1
if a workflow it was given could not be re-driven.

Every command but ``list`` talks to Temporal through the payload codec (encryption/), so
it needs ``TEMPORAL_CODEC_KEYS`` and ``TEMPORAL_CODEC_KEY_ID``; without them it exits 2,
naming the setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from contracts import DeadLetter, ValidationIssue
from contracts.privacy import protect_event_json
from contracts.workflows import (
    DLQ_REVIEW,
    REVIEW_DECISION_UPDATE,
    WORKFLOW_TYPES,
    ReviewDecision,
    corrected_event_sha256,
    workflow_id,
)
from encryption import CodecSettings, PayloadDecryptionError, invalid_settings
from orchestration import redrive, review_show
from orchestration.models import DLQReviewStatus
from orchestration.replay_settings import ReviewKafkaSettings
from orchestration.review_rules import (
    DecisionRefusedError,
    check_decision,
    check_reason,
    decision_update_id,
)
from orchestration.reviewers import Reviewer, client_identity, resolve_reviewer
from orchestration.settings import MissingSettingError, ReviewSettings, setting_name
from orchestration.store import PaymentStore, create_pool
from telemetry import exit_after_flush

# How long a decision waits for a worker to take or refuse it.
DECISION_TIMEOUT_SECONDS = 60


class ReviewRefusedError(Exception):
    """The decision cannot be sent; the message says why."""


class ReviewSettingsError(ReviewRefusedError):
    """A setting the command needs is missing or unusable; the message names it (exit 2)."""


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
    approve.add_argument("--corrected-event-file", type=Path,
                         help="the corrected unified event (JSON); keeps the event id")
    reject = commands.add_parser("reject", help="close a quarantined event")
    for command in (approve, reject):
        command.add_argument("event_id")
        command.add_argument("--reason", required=True, help="why (kept in the audit)")
        # Refused, not ignored: a script that still names a reviewer must learn it no longer
        # decides who the reviewer is.
        command.add_argument("--reviewer", help=argparse.SUPPRESS)
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
    if getattr(args, "reviewer", None) is not None:
        parser.error("--reviewer is not taken: the reviewer is the OS account running this "
                     "command, or ORCHESTRATOR_REVIEWER_IDENTITY")
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


def read_corrected_event(path: Path | None) -> dict | None:
    """The corrected event file's JSON (None: approve the dead letter's own payload)."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReviewRefusedError(f"cannot read {path}: {err}") from err
    # The review's history and audit keep only what an event may keep (contracts/privacy.py).
    return protect_event_json(data) if isinstance(data, dict) else data


def build_decision(args: argparse.Namespace, reviewer: Reviewer, row: dict) -> ReviewDecision:
    """The decision to send, checked with the workflow's own rules against the row."""
    if row["review_status"] != "pending":
        raise ReviewRefusedError(f"{args.event_id} is already {row['review_status']}")
    corrected = read_corrected_event(getattr(args, "corrected_event_file", None))
    decision = ReviewDecision(args.command, reviewer.name, reviewer.source,
                              args.reason.strip(), corrected)
    try:
        check_decision(_dead_letter_of(row), decision)
    except DecisionRefusedError as err:
        raise ReviewRefusedError(f"cannot {args.command}: {err}") from err
    return decision


async def _quarantined(settings: ReviewSettings, event_id: str) -> dict:
    """The event's quarantine row, read as the reviewer; refused if there is none."""
    pool = await create_pool(settings.review_dsn(), 1, 2)
    try:
        row = await PaymentStore(pool).get_quarantine(event_id)
    finally:
        await pool.close()
    if row is None:
        raise ReviewRefusedError(f"{event_id} is not in quarantine")
    return row


async def decide(args: argparse.Namespace, settings: ReviewSettings) -> str:
    try:
        reviewer = resolve_reviewer(settings.REVIEWER_IDENTITY)
        check_reason(args.reason.strip())
    except DecisionRefusedError as err:
        raise ReviewRefusedError(f"cannot {args.command}: {err}") from err
    row = await _quarantined(settings, args.event_id)
    decision = build_decision(args, reviewer, row)
    client = await _connect(settings, identity=client_identity(reviewer))
    handle = client.get_workflow_handle(workflow_id(DLQ_REVIEW, args.event_id))
    try:
        await asyncio.wait_for(handle.execute_update(
            REVIEW_DECISION_UPDATE, decision, id=decision_update_id(decision),
            result_type=DLQReviewStatus), DECISION_TIMEOUT_SECONDS)
    except WorkflowUpdateFailedError as err:
        raise ReviewRefusedError(f"the review workflow refused it: {err.cause}") from err
    except RPCError as err:
        raise ReviewRefusedError(f"no running review workflow for {args.event_id}: {err}") from err
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        # The same command again is safe: its update id makes it the same update.
        raise ReviewRefusedError(
            f"no worker took the decision within {DECISION_TIMEOUT_SECONDS} s; it may still be "
            "taken once one runs: check `list`, or send the same command again") from err
    digest = ("" if decision.corrected_event is None else
              f"; corrected event sha256 {corrected_event_sha256(decision.corrected_event)}")
    return (f"{args.command} accepted for {args.event_id} by {reviewer.name} "
            f"({reviewer.source}){digest}")


async def list_quarantine(args: argparse.Namespace, settings: ReviewSettings) -> str:
    pool = await create_pool(settings.review_dsn(), 1, 2)
    try:
        rows = await PaymentStore(pool).list_quarantine(args.status, args.limit)
    finally:
        await pool.close()
    lines = [f"{'event_id':<48} {'status':<9} {'quarantined_at':<26} errors"]
    lines += [f"{r['event_id']:<48} {r['review_status']:<9} "
              f"{r['quarantined_at'].isoformat():<26} {','.join(r['error_codes'])}" for r in rows]
    return "\n".join(lines)


async def show_original(args: argparse.Namespace, settings: ReviewSettings) -> str:
    """The quarantined event's original, from its source coordinates (not from quarantine)."""
    row = await _quarantined(settings, args.event_id)
    kafka = ReviewKafkaSettings()
    try:
        original = await review_show.read_original(
            kafka.KAFKA_BOOTSTRAP_SERVERS, row["source_topic"], row["source_partition"],
            row["source_offset"], kafka.KAFKA_REQUEST_TIMEOUT_SECONDS, kafka.kafka_auth())
    except review_show.OriginalUnavailableError as err:
        raise ReviewRefusedError(f"the original of {args.event_id} cannot be read: {err}; "
                                 "quarantine keeps only its redacted excerpt") from err
    if args.output is not None:
        return review_show.save(original, args.output)
    return review_show.render(row, original)


async def list_failed(args: argparse.Namespace, settings: ReviewSettings) -> str:
    client = await _connect(settings)
    failed = await _find_failed(client, args)
    lines = [f"{'workflow_id':<56} {'status':<10} {'closed_at':<26} {'task_queue':<16} reason"]
    for wf in failed:
        closed = wf.close_time.isoformat() if wf.close_time else "-"
        reason = (await redrive.close_reason(client, wf)).replace("\n", " ")[:160]
        lines.append(f"{wf.workflow_id:<56} {wf.status:<10} {closed:<26} {wf.task_queue:<16} "
                     f"{reason}")
    return "\n".join(lines)


async def redrive_failed(args: argparse.Namespace, settings: ReviewSettings) -> str:
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


async def _connect(settings: ReviewSettings, identity: str | None = None) -> Client:
    """A client that encrypts what it sends and decrypts what it reads (encryption/).

    The codec's settings are read here, not in main: `list` reads PostgreSQL only, and
    needs no key.
    """
    try:
        codec = CodecSettings()
    except ValidationError as err:
        raise ReviewSettingsError(f"invalid configuration: {invalid_settings(err)}\n{err}") from err
    extra = {"identity": identity} if identity else {}
    return await Client.connect(settings.TEMPORAL_TARGET, namespace=settings.TEMPORAL_NAMESPACE,
                                data_converter=codec.data_converter(), **extra)


COMMANDS = {"list": list_quarantine, "show": show_original, "approve": decide,
            "reject": decide, "failed": list_failed, "redrive": redrive_failed}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = ReviewSettings()
    except ValidationError as err:
        names = ", ".join(setting_name(ReviewSettings, str(e["loc"][0])) for e in err.errors())
        print(f"review: invalid configuration: {names}\n{err}", file=sys.stderr)
        return 2
    command = COMMANDS[args.command]
    try:
        print(asyncio.run(command(args, settings)))
    except (ReviewSettingsError, MissingSettingError) as err:
        print(f"review: {err}", file=sys.stderr)
        return 2
    except (ReviewRefusedError, RPCError, PayloadDecryptionError) as err:
        print(f"review: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
