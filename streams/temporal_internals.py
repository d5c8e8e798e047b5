"""The one seam for temporalio's private names: nothing else in streams/ uses them.

Pinned, with faust's, by ``tests/unit/streams/test_faust_internals.py``, which names the symbol
an upgrade removed.
"""

from __future__ import annotations

from temporalio.client import WorkflowHandle

# (module or class, attribute) for every private name used below; the seam test checks them.
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("temporalio.client.WorkflowHandle", "_start_workflow_response"),
)


def signal_with_start_started(handle: WorkflowHandle) -> bool:
    """Whether a signal-with-start started a run (or signalled a running one).

    temporalio has no public way to tell; the handle keeps the server's response. Raises
    AttributeError if an upgrade drops it, for the caller to report rather than guess.
    """
    return handle._start_workflow_response.started
