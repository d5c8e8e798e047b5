"""Committing upkeep beside loads: the load's own lock, and retries on a lost race.

Every Iceberg commit is optimistic: it names the table state it was built on, and the
catalog refuses it (CommitFailedException) when another commit landed first. An upkeep
commit is rebuilt from a freshly loaded table and tried again. For a bronze table it is
also made while holding that table's load lock (batch.loads.hold_load_lock), only for the
short commit step: a load then never loses its own commit to upkeep (bronze tables retry
nothing themselves, as a retried load would commit a stale watermark), and upkeep never
loses a race to a load. Writers that do not take the lock are covered by the retry alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pyiceberg.exceptions import CommitFailedException

from batch.loads import ConnectPostgres, hold_load_lock
from batch.schemas import BRONZE_TABLES

T = TypeVar("T")
log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 6
FIRST_WAIT_S = 0.1


@contextmanager
def table_lock(connect: ConnectPostgres | None, identifier: tuple[str, str]) -> Iterator[None]:
    """Hold the load lock of a bronze table; other tables, or no PostgreSQL, hold nothing."""
    spec = next((s for s in BRONZE_TABLES if s.identifier == tuple(identifier)), None)
    if spec is None or connect is None:
        yield
        return
    conn = connect()
    try:
        with hold_load_lock(conn.cursor(), spec):
            yield
    finally:
        conn.close()


def with_commit_retries(attempt: Callable[[], T], what: str,
                        attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run ``attempt`` (which loads the table afresh) until no concurrent commit beats it."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except CommitFailedException:
            if number == attempts:
                raise
            log.info("%s: a concurrent commit won (attempt %s of %s), retrying", what, number,
                     attempts)
            time.sleep(FIRST_WAIT_S * 2 ** (number - 1))
    raise AssertionError("unreachable")
