"""Activities through ActivityEnvironment, against the real inference app under uvicorn."""

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import uvicorn
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import ActivityEnvironment

from inference.app import create_app
from orchestration.activities import PaymentActivities
from orchestration.metrics import Metrics
from orchestration.policies import describe_failure
from orchestration.store import PaymentStore
from tests.builders import make_failed_event, make_payment_event


@pytest.fixture(scope="module")
async def activities() -> AsyncIterator[PaymentActivities]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
            # No customer and no payment id below, so the store is never reached.
            yield PaymentActivities(PaymentStore(None), http, Metrics())
    finally:
        server.should_exit = True
        await serving


async def test_broken_rules_come_back_as_data(activities):
    result = await ActivityEnvironment().run(activities.validate_business_rules,
                                             make_failed_event(failure_code=None))
    assert [issue.code for issue in result.errors] == ["failure_code.missing"]


async def test_fraud_and_retry_answers_carry_model_versions(activities):
    env = ActivityEnvironment()
    fraud = await env.run(activities.get_fraud_score, make_payment_event())
    retry = await env.run(activities.get_retry_strategy, make_failed_event(payment_id=None))
    assert 0 <= fraud.fraud_score <= 1 and fraud.model_version
    assert retry.action and retry.model_version


async def test_a_request_inference_refuses_is_not_retried(activities):
    event = make_failed_event(payment_id=None, failure_code="x" * 65)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(activities.get_retry_strategy, event)
    assert refused.value.non_retryable and refused.value.type == "InferenceRejected"


def test_missing_scores_are_explained():
    down = ApplicationError("/fraud/score: ClientConnectorError: refused",
                            type="InferenceUnavailable")
    refused = ApplicationError("HTTP 422", type="InferenceRejected", non_retryable=True)
    assert describe_failure(down, 5).startswith("inference unavailable after 5 attempts: /fraud")
    assert describe_failure(refused, 5) == "inference refused the request: HTTP 422"
    wrapped = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2,
                            identity="w", activity_type="get_fraud_score", activity_id="1",
                            retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED)
    wrapped.__cause__ = down
    assert describe_failure(wrapped, 5).startswith("inference unavailable after 5 attempts")
