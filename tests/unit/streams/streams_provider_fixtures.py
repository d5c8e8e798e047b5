"""Gateway-shaped records of the Adyen, Braintree and Square fixtures, for the mapping tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from contracts.providers import braintree_key, braintree_timestamp
from streams.simulation.signing import (
    ProviderKeys,
    adyen_record,
    braintree_xml,
    sign_adyen_item,
    sign_braintree_form,
)

PROVIDER_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
KEYS = ProviderKeys()


def read_fixture(relative: str) -> bytes:
    return (PROVIDER_FIXTURES / relative).read_bytes()


def adyen_items(relative: str) -> list[dict[str, Any]]:
    body = orjson.loads(read_fixture(relative))
    return [copy.deepcopy(e["NotificationRequestItem"]) for e in body["notificationItems"]]


def adyen_item(relative: str = "adyen/batch.json", index: int = 0, **overrides) -> dict:
    """One fixture item with fields overridden and re-signed, as the gateway would pass it."""
    item = adyen_items(relative)[index]
    item.update(overrides)
    return sign_adyen_item(item, KEYS.adyen_hmac_key)


def adyen_kafka(item: dict) -> tuple[bytes, bytes]:
    key, value = adyen_record(item)
    return key.encode(), value


def braintree_transaction(**overrides) -> dict[str, Any]:
    transaction = {"id": "txn_unit_1", "status": "settled", "type": "sale",
                   "currency_iso_code": "USD", "amount": "10.00",
                   "merchant_account_id": "pipeline_merchant_usd",
                   "payment_instrument_type": "credit_card", "customer": {"id": "cust_1"},
                   "credit_card": {"card_type": "Visa", "last_4": "4242"}}
    transaction.update(overrides)
    return transaction


def braintree_kafka(kind: str = "transaction_settled", subject: dict | None = None,
                    tag: str = "transaction",
                    timestamp: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    ) -> tuple[bytes, bytes]:
    """(key, form body) for a notification signed with the test keys."""
    subject = braintree_transaction() if subject is None else subject
    form = sign_braintree_form(braintree_xml(kind, braintree_timestamp(timestamp), tag, subject),
                               KEYS.braintree_public_key, KEYS.braintree_private_key)
    return braintree_key(kind, subject.get("id", "x"), timestamp).encode(), form


def square_event(relative: str = "square/payment.updated.json") -> dict[str, Any]:
    return orjson.loads(read_fixture(relative))


def square_kafka(event: dict) -> tuple[bytes, bytes]:
    return event["event_id"].encode(), orjson.dumps(event)
