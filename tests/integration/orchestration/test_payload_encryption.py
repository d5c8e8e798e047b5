"""Temporal's histories hold no readable payment data (issue 15, item 2).

The real worker (with the pipeline's codec, as `python -m orchestration.worker` builds it)
runs a payment and a dead-letter review started the way the Faust starter starts them.
Then the raw history is fetched by a client *without* the codec, as anyone who can reach
Temporal could: every payload in it is ``binary/encrypted`` and none holds the event's
values, and no failure message or other field names them either. A client with the codec
reads the same history back in full.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from temporalio.client import Client, WorkflowFailureError

from contracts import DeadLetter, PaymentEvent
from contracts.workflows import (
    DLQ_REVIEW,
    PAYMENT_EVENT,
    REVIEW_DECISION_UPDATE,
    STATUS_QUERY,
    ReviewDecision,
    workflow_id,
)
from encryption import ENCODING, KEY_ID_KEY, CodecSettings
from orchestration.models import (
    DLQReviewResult,
    DLQReviewStatus,
    PaymentEventResult,
)
from streams.workflow_starts import WorkflowStarter
from tests.builders import make_dead_letter, make_payment_event, make_stripe_webhook
from tests.temporal_histories import history_payloads, is_core_bookkeeping

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def plain_client(temporal_target) -> Client:
    """What anyone who can reach Temporal sees: no codec, no key."""
    return await Client.connect(temporal_target, namespace="default")


@pytest.fixture
def make_starter(temporal_target, temporal_client):
    """The Faust starter's signal-with-start, with the pipeline's codec, on a task queue."""

    def make(task_queue: str) -> WorkflowStarter:
        return WorkflowStarter(temporal_target, "default", task_queue, retry_cap_seconds=1,
                               data_converter=temporal_client.data_converter)

    return make


async def raw_history(plain_client: Client, wf_id: str):
    """The latest run's history as stored, and the bytes of every payload in it.

    Every payload the pipeline wrote must be encrypted under the current key id. Only the
    SDK core's own bookkeeping (tests/temporal_histories.py) is written around the codec;
    it is searched for the event's values with the rest.
    """
    history = await plain_client.get_workflow_handle(wf_id).fetch_history()
    payloads = history_payloads(history.events)
    ours = [(path, p) for path, p in payloads if not is_core_bookkeeping(path)]
    assert len(ours) >= 2, "a history with no payloads of ours proves nothing"
    key_id = CodecSettings().TEMPORAL_CODEC_KEY_ID.encode()
    plain = [path for path, p in ours if p.metadata.get("encoding") != ENCODING
             or p.metadata.get(KEY_ID_KEY) != key_id]
    assert plain == [], f"payloads not encrypted under the current key: {plain}"
    return history, b"".join(p.data for _, p in payloads)


def assert_unreadable(history, sealed: bytes, secrets: list[str], named_by_id: set[str]) -> None:
    # Quoted or long values only: random ciphertext never holds them by chance.
    in_payloads = [s for s in secrets if s.encode() in sealed]
    assert in_payloads == [], f"readable in payloads: {in_payloads}"
    # Outside payloads (failure messages, markers, reasons): the whole stored history. The
    # workflow id names the event id by contract (contracts/workflows.py), so it may appear.
    whole = history.to_json()
    elsewhere = [s for s in secrets if s not in named_by_id and s in whole]
    assert elsewhere == [], f"readable in the history: {elsewhere}"


def payment_secrets(event: PaymentEvent) -> list[str]:
    return [event.event_id, event.provider_event_id, event.payment_id, event.customer_id,
            event.merchant_id, event.metadata["order_id"], str(event.amount_cents),
            f'"{event.currency}"', f'"{event.provider}"', f'"{event.card_brand}"',
            '"amount_cents"', '"customer_id"', '"card_last_four"']


async def test_a_payments_history_holds_only_ciphertext(
        temporal_client, plain_client, start_worker, make_starter, unique):
    starter = make_starter(await start_worker())
    event = make_payment_event(
        customer_id=f"cus_secret_{unique}", merchant_id=f"acct_secret_{unique}",
        payment_id=f"pi_secret_{unique}", amount_cents=8_765_432, currency="EUR",
        card_brand="mastercard", metadata={"order_id": f"order-secret-{unique}"})
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)

    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    result = await temporal_client.get_workflow_handle(
        wf_id, result_type=PaymentEventResult).result()
    assert result.outcome == "inserted"

    history, sealed = await raw_history(plain_client, wf_id)
    assert_unreadable(history, sealed, payment_secrets(event),
                      named_by_id={event.event_id, event.provider_event_id})
    with pytest.raises(KeyError, match="binary/encrypted"):
        await plain_client.get_workflow_handle(wf_id, result_type=PaymentEventResult).result()
    # With the codec, the same stored input reads back as the event that was sent.
    first = history.events[0].workflow_execution_started_event_attributes
    assert await temporal_client.data_converter.decode(first.input.payloads,
                                                       [PaymentEvent]) == [event]


async def test_a_failure_message_naming_the_events_values_is_encrypted(
        temporal_client, plain_client, start_worker, make_starter, unique):
    queue = await start_worker()
    event = make_payment_event(customer_id=f"cus_conflict_{unique}", amount_cents=1_234_567)
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    await make_starter(queue).signal_with_start(PAYMENT_EVENT, event.event_id, event)
    await temporal_client.get_workflow_handle(wf_id).result()
    # The same event id with another amount, in a new run (the starter would call the
    # completed workflow done): it fails with EventConflict, whose message names the event
    # and the differing field (orchestration/store.py), in every failure of the chain.
    conflicting = replace(event, amount_cents=7_654_321)
    handle = await temporal_client.start_workflow(
        PAYMENT_EVENT.workflow, conflicting, id=wf_id, task_queue=queue,
        start_signal=PAYMENT_EVENT.signal, start_signal_args=[conflicting])
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert "amount_cents" in str(failure.value.cause)  # readable with the key

    history, sealed = await raw_history(plain_client, wf_id)
    assert_unreadable(history, sealed,
                      [*payment_secrets(conflicting), "1234567", "amount_cents", "stored row"],
                      named_by_id={event.event_id, event.provider_event_id})
    closing = history.events[-1].workflow_execution_failed_event_attributes.failure
    assert closing.message == "Encoded failure"


def a_dead_letter_with_personal_data(unique: str) -> tuple[DeadLetter, list[str]]:
    """A real Stripe charge fixture's shape, with personal values of this test's own (the
    fixtures' own values are what issue 15 item 1's table scan looks for)."""
    personal = {"name": f"Ada Private {unique}", "email": f"ada.{unique}@example.com",
                "line1": f"{unique} Secret Street", "fingerprint": f"fp{unique}"}
    charge = make_stripe_webhook("charge.succeeded", event_id=f"evt_secret_{unique}")
    card = charge["data"]["object"]["payment_method_details"]["card"]
    card["fingerprint"] = personal["fingerprint"]
    billing = charge["data"]["object"]["billing_details"]
    billing.update(name=personal["name"], email=personal["email"])
    billing["address"]["line1"] = personal["line1"]
    letter = make_dead_letter(payload=json.dumps(charge), provider="stripe")
    return letter, [*personal.values(), f"evt_secret_{unique}", '"billing_details"']


async def test_a_dead_letter_reviews_history_holds_only_ciphertext(
        temporal_client, plain_client, start_worker, make_starter, unique):
    starter = make_starter(await start_worker())
    letter, secrets = a_dead_letter_with_personal_data(unique)
    wf_id = workflow_id(DLQ_REVIEW, letter.event_id)
    assert await starter.signal_with_start(DLQ_REVIEW, letter.event_id, letter) == "started"
    handle = temporal_client.get_workflow_handle(wf_id, result_type=DLQReviewResult)
    for _ in range(100):
        status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
        if status.review_status == "pending":
            break
        await asyncio.sleep(0.1)
    reason = f"customer Ada Private {unique} asked for it"
    await handle.execute_update(REVIEW_DECISION_UPDATE,
                                ReviewDecision("reject", f"rev_{unique}", "configured", reason),
                                result_type=DLQReviewStatus)
    assert (await handle.result()).review_status == "rejected"

    history, sealed = await raw_history(plain_client, wf_id)
    assert_unreadable(history, sealed, [*secrets, reason, f"rev_{unique}"],
                      named_by_id={letter.event_id})
    first = history.events[0].workflow_execution_started_event_attributes
    assert await temporal_client.data_converter.decode(first.input.payloads,
                                                       [DeadLetter]) == [letter]
