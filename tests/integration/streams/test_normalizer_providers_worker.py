"""A real normalizer worker on the real broker, fed what the real gateway writes for Adyen,
Braintree and Square: unified events on the normalized topic, bad records on the DLQ."""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from gateway.providers import VerifiedEvent
from gateway.providers.adyen import AdyenProvider
from gateway.providers.braintree import BraintreeProvider
from gateway.providers.square import SquareProvider
from streams.codecs import decode_dead_letter, decode_event
from streams.simulation.signing import (
    SQUARE_SIGNATURE_HEADER,
    ProviderKeys,
    adyen_basic_auth,
    adyen_batch_body,
    braintree_xml,
    sign_adyen_item,
    sign_braintree_form,
    sign_square,
)

pytestmark = pytest.mark.timeout(240)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
KEYS = ProviderKeys()
ADYEN = AdyenProvider(KEYS.adyen_hmac_key, KEYS.adyen_username, KEYS.adyen_password)
BRAINTREE = BraintreeProvider("pipeline_merchant", KEYS.braintree_public_key,
                              KEYS.braintree_private_key)
SQUARE = SquareProvider(KEYS.square_signature_key, KEYS.square_notification_url)


def through_adyen(items: list[dict]) -> list[VerifiedEvent]:
    auth = {"authorization": adyen_basic_auth(KEYS.adyen_username, KEYS.adyen_password)}
    return list(ADYEN.verify(adyen_batch_body(items), auth))


def through_square(body: bytes) -> VerifiedEvent:
    header = sign_square(body, KEYS.square_signature_key, KEYS.square_notification_url)
    [verified] = SQUARE.verify(body, {SQUARE_SIGNATURE_HEADER: header})
    return verified


def adyen_fixture_items(name: str) -> list[dict]:
    body = orjson.loads((FIXTURES / "adyen" / name).read_bytes())
    return [e["NotificationRequestItem"] for e in body["notificationItems"]]


def gateway_records(unique: str) -> tuple[list[VerifiedEvent], list[VerifiedEvent]]:
    """(valid, invalid): each authentic by the gateway's own verifiers, as it writes them."""
    valid = through_adyen(adyen_fixture_items("batch.json")
                          + adyen_fixture_items("normalizer_modifications.json"))
    valid += [BRAINTREE.verify(path.read_bytes(), {})[0]
              for path in sorted((FIXTURES / "braintree").glob("*.form"))]
    for path in sorted((FIXTURES / "square").glob("*.json")):
        event = orjson.loads(path.read_bytes())
        event["event_id"] = f"{event['event_id']}-{unique}"
        valid.append(through_square(orjson.dumps(event)))

    unknown_code = dict(adyen_fixture_items("batch.json")[0], eventCode="OFFER_CLOSED",
                        pspReference=f"PSP{unique[:12].upper()}")
    invalid = through_adyen([sign_adyen_item(unknown_code, KEYS.adyen_hmac_key)])
    transaction = {"id": f"txn_{unique}", "status": "settled", "currency_iso_code": "USD",
                   "amount": "10.005"}
    form = sign_braintree_form(braintree_xml("transaction_settled", "2026-01-02T03:04:05Z",
                                             "transaction", transaction),
                               KEYS.braintree_public_key, KEYS.braintree_private_key)
    invalid += BRAINTREE.verify(form, {})
    event = orjson.loads((FIXTURES / "square" / "payment.updated.json").read_bytes())
    event["event_id"] = f"bad-{unique}"
    event["data"]["object"]["payment"]["amount_money"]["currency"] = "XYZ"
    invalid.append(through_square(orjson.dumps(event)))
    return valid, invalid


def topic_of(topics, verified: VerifiedEvent) -> str:
    name = {"webhooks.adyen.notification": "adyen", "webhooks.braintree.notification":
            "braintree", "webhooks.square.payment": "square_payment",
            "webhooks.square.refund": "square_refund"}[verified.topic]
    return topics.providers[name]


async def send(producer, topic: str, key: bytes | None, value: bytes, provider: str,
               event_type: str) -> None:
    headers = [("provider", provider.encode()), ("event_type", event_type.encode()),
               ("received_at", datetime.now(UTC).isoformat().encode())]
    await producer.send_and_wait(topic, value, key=key, headers=headers)


async def test_each_provider_maps_and_bad_records_are_dead_lettered(
        pipeline_topics, start_worker, producer, read_all, unique, wait_committed):
    worker = await start_worker("streams.normalizer", f"test-norm-prov-{unique}")
    valid, invalid = gateway_records(unique)
    for verified in valid + invalid + valid[:4]:  # the last four are provider retries
        await send(producer, topic_of(pipeline_topics, verified), verified.event_id.encode(),
                   verified.value, verified.provider, verified.event_type)
    poison = [(topic, None if i in (0, 3) else b"poison", b"\xff\x00")
              for i, topic in enumerate(pipeline_topics.providers.values())]
    await asyncio.gather(*(send(producer, topic, key, value, "x", "x")
                           for topic, key, value in poison))

    normalized = await read_all(pipeline_topics.normalized, expect=len(valid))
    dead = await read_all(pipeline_topics.dlq, expect=len(invalid) + len(poison))

    events = {e.event_id: e for e in (decode_event(v) for _, v in normalized)}
    assert len(normalized) == len(events) == len(valid)
    assert set(events) == {f"{v.provider}:{v.event_id}" for v in valid}
    by_provider = collections.defaultdict(set)
    for event in events.values():
        by_provider[event.provider].add(event.event_type)
    assert by_provider == {
        "adyen": {"payment.succeeded", "payment.failed", "charge.captured", "payment.canceled",
                  "dispute.created", "refund.created"},
        "braintree": {"payment.succeeded", "payment.failed", "dispute.created"},
        "square": {"payment.succeeded", "payment.failed", "payment.authorized",
                   "refund.created", "refund.failed"},
    }
    jpy = events["braintree:transaction_settled:txn_jpy_0001:2026-01-02T03:04:06Z"]
    assert (jpy.amount_cents, jpy.currency) == (1500, "JPY")

    letters = [decode_dead_letter(v) for _, v in dead]
    assert len(letters) == len(invalid) + len(poison)
    codes = collections.Counter(c for letter in letters for c in letter.error_codes)
    assert codes == {"event_type.unknown": 1, "amount.not_minor_unit": 1,
                     "currency.unsupported": 1, "key.missing": 2, "payload.not_json": 1,
                     "payload.not_form": 1}
    assert {k.decode() for k, _ in dead} >= {f"{v.provider}:{v.event_id}" for v in invalid}

    counters = await worker.counters()
    assert sum(c.get("deduplicated", 0) for c in counters.values()) == 4
    await wait_committed(f"test-norm-prov-{unique}", list(pipeline_topics.providers.values()))
