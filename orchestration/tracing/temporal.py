"""The trace's Temporal reads: describe a workflow by its id (contracts/workflows.py)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.workflows import WorkflowTarget, workflow_id
from orchestration.trace_report import (
    WorkflowFinding,
    found,
    not_found,
    temporal_ui_link,
    unreachable,
)


class TemporalReader:
    def __init__(self, client: Client | None, error: str | None, ui_url: str, namespace: str,
                 timeout: float) -> None:
        self._client, self._error = client, error
        self._ui_url, self._namespace, self._timeout = ui_url, namespace, timeout

    @classmethod
    async def connect(cls, target: str, namespace: str, ui_url: str,
                      within: float) -> TemporalReader:
        # No payload codec (encryption/): a description decodes no payload, so a trace
        # needs no key, and an operator tracing a payment is not handed one.
        try:
            client = await asyncio.wait_for(Client.connect(target, namespace=namespace), within)
        except (RPCError, RuntimeError, OSError, TimeoutError) as err:
            return cls(None, f"{target}: {type(err).__name__}: {err}", ui_url, namespace, within)
        return cls(client, None, ui_url, namespace, within)

    async def describe(self, target: WorkflowTarget, event_id: str) -> WorkflowFinding:
        wf_id = workflow_id(target, event_id)
        link = temporal_ui_link(self._ui_url, self._namespace, wf_id, None)
        if self._client is None:
            return WorkflowFinding(unreachable(self._error or "no client"), target.workflow,
                                   wf_id, ui_link=link)
        try:
            desc = await asyncio.wait_for(self._client.get_workflow_handle(wf_id).describe(),
                                          self._timeout)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return WorkflowFinding(not_found("no such workflow, or past retention"),
                                       target.workflow, wf_id, ui_link=link)
            return WorkflowFinding(unreachable(f"{err.status.name}: {err.message}"),
                                   target.workflow, wf_id, ui_link=link)
        except TimeoutError:
            return WorkflowFinding(unreachable(f"no answer within {self._timeout:g} s"),
                                   target.workflow, wf_id, ui_link=link)
        status = desc.status.name.lower() if desc.status else None
        return WorkflowFinding(
            found(), desc.workflow_type or target.workflow, wf_id, desc.run_id, status,
            desc.start_time, desc.close_time,
            temporal_ui_link(self._ui_url, self._namespace, wf_id, desc.run_id))
