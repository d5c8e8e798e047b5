"""`python -m orchestration.reconcile`: find the provider's events the pipeline never received.

    python -m orchestration.reconcile --provider stripe --since 2026-12-01T00:00:00Z \
        --until 2026-12-02T00:00:00Z [--apply]

Lists the provider's events created in [since, until] through its API and prints those with
no row in payment_events or payment_events_quarantine (a dry run, the default). ``--apply``
writes each to its raw topic as the gateway would have (key = the provider event id, the
raw headers, request id ``reconciliation-<run id>``, header ``origin: reconciliation``;
acks=all), so it goes through the normalizer like a webhook: deduplicated by its id, and a
webhook for it that arrives later is a duplicate. Exit 0 when done, 1 when a batch could
not be checked or fed, 2 on bad arguments or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from orchestration.reconciliation.events import Window, WindowError
from orchestration.reconciliation.runner import Held, KafkaFeeder, Report, reconcile
from orchestration.reconciliation.settings import ReconcileSettings, SettingMissingError
from orchestration.reconciliation.stripe import StripeEventSource
from orchestration.replay_plan import parse_instant
from telemetry import exit_after_flush

# The providers whose API can be listed; the others would plug in here (README.md says
# which API each would use).
SOURCES = {"stripe": lambda s: StripeEventSource.connect(
    s.stripe_api_key(), s.STRIPE_API_BASE, s.STRIPE_API_VERSION)}


def parse_time(text: str) -> datetime:
    """RFC 3339 with an offset (``Z`` allowed, read by replay's ``parse_instant``), Unix
    seconds, or ``now``."""
    if text == "now":
        return datetime.now(UTC)
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        return parse_instant(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err} (or Unix seconds, or now)") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration.reconcile",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--provider", required=True, choices=sorted(SOURCES))
    parser.add_argument("--since", required=True, type=parse_time)
    parser.add_argument("--until", required=True, type=parse_time)
    parser.add_argument("--apply", action="store_true",
                        help="feed the missing events to their raw topics (default: list only)")
    args = parser.parse_args(argv)
    try:
        args.window = Window(args.since, args.until)
    except WindowError as err:
        parser.error(str(err))
    return args


def format_report(report: Report) -> str:
    lines = [f"{m.event_id}  {m.event_type:<36} {m.created.isoformat()}  -> {m.topic}"
             for m in report.missing]
    lines += [f"{event_id}  too large for a raw record: not fed" for event_id in report.too_large]
    verb = "fed" if report.applied else "missing (dry run; --apply feeds them)"
    lines.append(f"listed {report.listed}, held {report.held}, {verb} {len(report.missing)}, "
                 f"not routed {report.unroutable}, outside the window {report.outside_window}, "
                 f"too large {len(report.too_large)} (run {report.run_id})")
    return "\n".join(lines)


def held_in(pool: asyncpg.Pool, provider: str) -> Held:
    """The pipeline's holdings, read from PostgreSQL (the command's edge)."""
    from orchestration.holdings import held_event_ids

    async def held(event_ids: Sequence[str]) -> set[str]:
        return await held_event_ids(pool, provider, event_ids)

    return held


async def run(args: argparse.Namespace, settings: ReconcileSettings) -> Report:
    source = SOURCES[args.provider](settings)
    pool = await asyncpg.create_pool(settings.POSTGRES_DSN, min_size=1, max_size=2)
    producer = KafkaFeeder.producer(settings.KAFKA_BOOTSTRAP_SERVERS,
                                    settings.kafka_auth()) if args.apply else None
    try:
        if producer is not None:
            await producer.start()
        feeder = KafkaFeeder(producer) if producer is not None else None
        return await reconcile(source, args.window, held_in(pool, args.provider), feeder,
                               settings.BATCH_SIZE)
    finally:
        if producer is not None:
            await producer.stop()
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = ReconcileSettings()
        SOURCES[args.provider](settings)  # a missing key stops here, naming the setting
    except (ValidationError, SettingMissingError) as err:
        print(f"reconcile: bad configuration: {err}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(run(args, settings))
    except (KafkaError, OSError, asyncpg.PostgresError) as err:
        print(f"reconcile: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
