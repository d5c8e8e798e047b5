"""The starter's classification of Temporal's errors, and its reading of the start response."""

from __future__ import annotations

import pytest
from temporalio.api.workflowservice.v1 import SignalWithStartWorkflowExecutionResponse
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from streams import workflow_starts
from streams.workflow_starts import (
    PERMANENT_STATUSES,
    TRANSIENT_STATUSES,
    StartRefusedError,
    is_permanent,
    start_outcome,
)


def test_every_grpc_status_is_classified_once():
    assert not TRANSIENT_STATUSES & PERMANENT_STATUSES
    assert TRANSIENT_STATUSES | PERMANENT_STATUSES == set(RPCStatusCode) - {RPCStatusCode.OK}


@pytest.mark.parametrize("status", ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED",
                                    "ABORTED", "INTERNAL", "UNKNOWN"])
def test_server_and_network_trouble_is_transient(status):
    assert not is_permanent(RPCError("x", RPCStatusCode[status], b""))


@pytest.mark.parametrize("status", ["INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION",
                                    "OUT_OF_RANGE", "UNIMPLEMENTED", "PERMISSION_DENIED"])
def test_a_refusal_of_the_request_itself_is_permanent(status):
    assert is_permanent(RPCError("x", RPCStatusCode[status], b""))


def test_connection_errors_are_retried_not_refused():
    for exc in (RuntimeError("Failed client connect"), ConnectionError(), TimeoutError()):
        assert isinstance(exc, workflow_starts.TRANSIENT_ERRORS) and not is_permanent(exc)


def test_a_refusal_names_its_status_as_a_stable_code():
    refused = StartRefusedError("payment-event:x", RPCStatusCode.NOT_FOUND, "no namespace")
    assert refused.reason == "start.not_found"
    assert "NOT_FOUND" in str(refused) and "no namespace" in str(refused)


@pytest.mark.parametrize(("started", "outcome"), [(True, "started"), (False, "signalled")])
def test_the_outcome_is_read_from_the_sdk_handle(started, outcome):
    # A handle built as temporalio builds it from a signal-with-start. This fails loudly
    # if temporalio stops keeping the response where start_outcome reads it.
    response = SignalWithStartWorkflowExecutionResponse(run_id="r", started=started)
    handle = WorkflowHandle(None, "payment-event:x", start_workflow_response=response)
    assert start_outcome(handle) == outcome
