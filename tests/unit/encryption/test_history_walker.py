"""The raw-history reader the encryption integration test relies on finds every payload."""

from __future__ import annotations

from temporalio.api.common.v1 import Header, Payload, Payloads
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.api.history.v1 import (
    HistoryEvent,
    MarkerRecordedEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowExecutionStartedEventAttributes,
)

from tests.temporal_histories import history_payloads, is_core_bookkeeping


def marked(name: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=name.encode())


def test_inputs_headers_markers_and_failures_are_all_found():
    started = HistoryEvent(workflow_execution_started_event_attributes=(
        WorkflowExecutionStartedEventAttributes(
            input=Payloads(payloads=[marked("input-1"), marked("input-2")]),
            header=Header(fields={"h": marked("header")}))))
    marker = HistoryEvent(marker_recorded_event_attributes=MarkerRecordedEventAttributes(
        marker_name="core_local_activity",
        details={"data": Payloads(payloads=[marked("marker-data")]),
                 "result": Payloads(payloads=[marked("marker-result")])}))
    failure = Failure(message="Encoded failure", encoded_attributes=marked("encoded"),
                      application_failure_info=ApplicationFailureInfo(
                          details=Payloads(payloads=[marked("detail")])),
                      cause=Failure(encoded_attributes=marked("cause")))
    failed = HistoryEvent(workflow_execution_failed_event_attributes=(
        WorkflowExecutionFailedEventAttributes(failure=failure)))

    found = {p.data.decode(): path for path, p in history_payloads([started, marker, failed])}

    assert sorted(found) == sorted(["input-1", "input-2", "header", "marker-data",
                                    "marker-result", "encoded", "detail", "cause"])
    assert found["marker-result"].endswith(
        "marker_recorded_event_attributes.details[result].payloads[0]")
    assert is_core_bookkeeping(found["marker-data"])
    assert not any(is_core_bookkeeping(found[name]) for name in found if name != "marker-data")
