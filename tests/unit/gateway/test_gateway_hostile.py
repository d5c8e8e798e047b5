"""Hostile input gets a 4xx (or is refused alone), costs little, and touches only itself."""

from __future__ import annotations

import logging
import time

import orjson
import pytest
from gateway_support import SECRET
from provider_support import (
    PROVIDER_SETTINGS,
    adyen_batch,
    adyen_items,
    basic_auth,
    braintree_form,
    sign_adyen_item,
)

from contracts.topics import ADYEN_NOTIFICATION, WEBHOOKS_DLQ
from gateway.settings import GatewaySettings

ADYEN = {"content-type": "application/json", "authorization": basic_auth()}
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                           ADYEN_MAX_ITEMS=60, **PROVIDER_SETTINGS)


def key_of(item: dict) -> bytes:
    return f"{item['pspReference']}:{item['eventCode']}:{item['success']}".encode()


@pytest.mark.parametrize("v1", ["\xe9" * 64, "ab\xffcd", "\u0100"])
async def test_non_ascii_stripe_v1_is_a_400_not_a_503(client, publisher, v1):
    body = b'{"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"object": "c"}}}'
    header = f"t={int(time.time())},v1={v1}".encode()
    response = await client.post("/webhooks/stripe", content=body,
                                 headers={"content-type": "application/json",
                                          "stripe-signature": header})
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "signature_malformed"
    assert publisher.records == []


async def test_braintree_form_of_many_fields_is_refused_before_it_is_parsed(client, publisher):
    # ~1 MiB of empty fields: parsing it whole cost ~0.3-0.44 s of event-loop CPU.
    body = b"a=&" * 300_000 + braintree_form("transaction_settled", "txn_hostile_1")
    response = await client.post("/webhooks/braintree", content=body, headers=FORM)
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "form_too_many_fields"
    assert publisher.records == []


async def test_non_ascii_adyen_signature_refuses_that_item_alone(client, publisher):
    good, bad, other = adyen_items()
    bad["additionalData"]["hmacSignature"] = "\xe9t\xe9"
    response = await client.post("/webhooks/adyen", content=adyen_batch(good, bad, other),
                                 headers=ADYEN)
    assert (response.status_code, response.text) == (200, "[accepted]")
    assert [(t, k) for t, k, _, _ in publisher.records] == [
        (ADYEN_NOTIFICATION, key_of(good)), (ADYEN_NOTIFICATION, key_of(other))]


async def test_a_lone_non_ascii_adyen_signature_is_a_400(client, publisher):
    item = adyen_items()[0]
    item["additionalData"]["hmacSignature"] = "\u2603"
    response = await client.post("/webhooks/adyen", content=adyen_batch(item), headers=ADYEN)
    assert (response.status_code, response.json()["reason"]) == (400, "signature_malformed")
    assert publisher.records == []


@pytest.mark.parametrize("field", ["pspReference", "merchantAccountCode", "merchantReference",
                                   "originalReference", "eventCode", "currency"])
async def test_a_colon_in_a_signed_field_is_an_invalid_item(client, publisher, field):
    good, item, _ = adyen_items()
    if field == "currency":
        item["amount"]["currency"] = "EU:R"
    else:
        item[field] = f"{item.get(field) or 'x'}:more"
    sign_adyen_item(item)
    response = await client.post("/webhooks/adyen", content=adyen_batch(good, item),
                                 headers={**ADYEN, "x-request-id": "req-colon"})
    assert (response.status_code, response.text) == (200, "[accepted]")
    (accepted, dead) = publisher.records
    assert accepted[:2] == (ADYEN_NOTIFICATION, key_of(good))
    topic, _, value, headers = dead
    assert topic == WEBHOOKS_DLQ
    assert orjson.loads(value) == item
    assert dict(headers)["reason"] == b"signed_field_has_colon"


async def test_a_colon_cannot_move_between_signed_fields(client, publisher):
    """A signed 'Acct' / 'R:x' re-split as 'Acct:R' / 'x' still verifies: neither is routed."""
    item = adyen_items()[0]
    item.update(merchantAccountCode="Acct", merchantReference="R:x")
    sign_adyen_item(item)
    resplit = {**item, "merchantAccountCode": "Acct:R", "merchantReference": "x"}
    response = await client.post("/webhooks/adyen", content=adyen_batch(item, resplit),
                                 headers=ADYEN)
    assert response.status_code == 200, response.text
    assert [t for t, _, _, _ in publisher.records] == [WEBHOOKS_DLQ, WEBHOOKS_DLQ]


async def test_items_over_the_cap_are_a_413_and_write_nothing(client, publisher, settings):
    items = [adyen_items()[0] for _ in range(settings.provider("adyen").ADYEN_MAX_ITEMS + 1)]
    response = await client.post("/webhooks/adyen", content=adyen_batch(*items), headers=ADYEN)
    assert response.status_code == 413, response.text
    assert response.json()["reason"] == "too_many_items"
    assert publisher.records == []


async def test_many_bad_items_log_one_line_with_counts(client, publisher, settings, caplog):
    caplog.set_level(logging.INFO, logger="gateway.webhooks")
    good = adyen_items()[0]
    forged = [{**good, "pspReference": f"FORGED{n:010d}"} for n in range(40)]
    unsigned = [{**good, "additionalData": {}} for _ in range(10)]
    response = await client.post("/webhooks/adyen", content=adyen_batch(good, *forged,
                                                                        *unsigned),
                                 headers=ADYEN)
    assert response.status_code == 200, response.text
    assert len(publisher.records) == 1
    (line,) = [r for r in caplog.records if r.name == "gateway.webhooks"]
    assert line.levelname == "WARNING"
    assert line.counts == {"accepted": 1, "signature_mismatch": 40, "signature_missing": 10}
