"""The batch activities through ActivityEnvironment, against the real inference app under
uvicorn: a refusal is one event's answer, a transport failure fails the step."""

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import uvicorn
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from inference.app import create_app
from orchestration.activities import PaymentActivities
from orchestration.batch_activities import PaymentBatchActivities
from orchestration.metrics import Metrics
from orchestration.store import PaymentStore
from tests.builders import make_failed_event, make_payment_event


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
async def inference_url() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def batch_activities(http: aiohttp.ClientSession) -> PaymentBatchActivities:
    # No customer and no payment id below, so the store is never reached.
    return PaymentBatchActivities(PaymentActivities(PaymentStore(None), http, Metrics()))


async def test_every_event_gets_its_rules_checked_in_order():
    async with aiohttp.ClientSession() as http:
        results = await ActivityEnvironment().run(
            batch_activities(http).validate_batch,
            [make_payment_event(), make_failed_event(failure_code=None)])
    assert [[i.code for i in r.errors] for r in results] == [[], ["failure_code.missing"]]


async def test_a_refused_event_does_not_fail_the_others(inference_url):
    events = [make_failed_event(payment_id=None), make_failed_event(payment_id=None,
                                                                    failure_code="x" * 65),
              make_failed_event(payment_id=None)]
    async with aiohttp.ClientSession(base_url=inference_url) as http:
        answers = await ActivityEnvironment().run(batch_activities(http).get_retry_strategies,
                                                  events)
    assert [a.retry is not None for a in answers] == [True, False, True]
    assert answers[1].refused.startswith("/retry/strategy: HTTP 422")
    assert answers[0].retry.model_version and answers[0].refused is None


async def test_fraud_scores_come_back_one_per_event_in_order(inference_url):
    events = [make_payment_event(amount_cents=100), make_payment_event(amount_cents=900_000)]
    async with aiohttp.ClientSession(base_url=inference_url) as http:
        answers = await ActivityEnvironment().run(batch_activities(http).get_fraud_scores,
                                                  events)
    single = []
    async with aiohttp.ClientSession(base_url=inference_url) as http:
        payments = PaymentActivities(PaymentStore(None), http, Metrics())
        for event in events:
            single.append(await ActivityEnvironment().run(payments.get_fraud_score, event))
    assert [a.fraud for a in answers] == single  # the per-event activity's answers


async def test_inference_unreachable_fails_the_step_for_a_retry():
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{free_port()}") as http:
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(batch_activities(http).get_fraud_scores,
                                            [make_payment_event(), make_payment_event()])
    assert failed.value.type == "InferenceUnavailable" and not failed.value.non_retryable
