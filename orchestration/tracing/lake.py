"""Whether the lakehouse holds an event yet: the bronze tables, read through PyIceberg's
catalog (the names in contracts/storage.py, the settings in tracing/settings.py).

PyIceberg is synchronous, so each read runs in a daemon thread under the trace's timeout; a
read that outlives it is reported unreachable and abandoned. Not asyncio.to_thread: the
event loop's executor is joined when the command ends, and a catalog that hangs (a database
that drops packets) would hold the whole trace hostage.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.expressions import In

from orchestration.trace_report import LakeFinding, found, not_found, unreachable

T = TypeVar("T")


def in_daemon_thread(call: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``call(*args)`` on a thread nobody waits for at exit; its result as a future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # given up on (timed out) meanwhile
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def run() -> None:
        result, error = None, None
        try:
            result = call(*args)
        except Exception as err:  # noqa: BLE001 - handed to the awaiting side
            error = err
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    threading.Thread(target=run, daemon=True, name="trace-lake").start()
    return future


class LakeReader:
    def __init__(self, catalog: Catalog | None, error: str | None, timeout: float) -> None:
        self._catalog, self._error, self._timeout = catalog, error, timeout

    @classmethod
    async def connect(cls, name: str, properties: dict[str, str], within: float) -> LakeReader:
        try:
            catalog = await asyncio.wait_for(
                in_daemon_thread(lambda: load_catalog(name, **properties)), within)
        except TimeoutError:
            return cls(None, f"catalog {name}: no answer within {within:g} s", within)
        except Exception as err:  # noqa: BLE001 - any catalog failure is this stage's finding
            return cls(None, f"catalog {name}: {type(err).__name__}: {err}", within)
        return cls(catalog, None, within)

    async def holds(self, identifier: tuple[str, str], event_ids: Sequence[str],
                    in_postgres: bool | None) -> LakeFinding:
        """Whether the table has a row for any of the ids; ``in_postgres`` (None: unknown)
        tells "not yet loaded" apart from "nothing to load"."""
        table_name = ".".join(identifier)
        if self._catalog is None:
            return LakeFinding(table_name, unreachable(self._error or "no catalog"))
        try:
            count = await asyncio.wait_for(
                in_daemon_thread(self._count, identifier, list(event_ids)), self._timeout)
        except (NoSuchTableError, NoSuchNamespaceError):
            return LakeFinding(table_name, not_found("the table does not exist yet"))
        except TimeoutError:
            return LakeFinding(table_name, unreachable(f"no answer within {self._timeout:g} s"))
        except Exception as err:  # noqa: BLE001 - a storage or catalog failure is a finding
            return LakeFinding(table_name, unreachable(f"{type(err).__name__}: {err}"))
        if count:
            return LakeFinding(table_name, found(f"{count} row{'s' if count > 1 else ''}"))
        why = {True: "not yet: the next lakehouse_job run loads it",
               False: "not in PostgreSQL either",
               None: "and PostgreSQL could not be read to tell whether it should be"}[in_postgres]
        return LakeFinding(table_name, not_found(why))

    def _count(self, identifier: tuple[str, str], event_ids: list[str]) -> int:
        table = self._catalog.load_table(identifier)
        scan = table.scan(row_filter=In("event_id", event_ids), selected_fields=("event_id",))
        return scan.to_arrow().num_rows
