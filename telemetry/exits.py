"""Leaving a process that has used temporalio, once its work is done and flushed."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn


def exit_after_flush(code: int) -> NoReturn:
    """Flush the logs and the standard streams, then exit without finalization.

    temporalio's Rust runtime threads can abort CPython's finalization (SIGSEGV, SIGABRT
    or PyGILState_Release, temporalio/sdk-python#300), turning a clean run into a crash.
    Callers have finished their work, so skipping finalization loses nothing.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
