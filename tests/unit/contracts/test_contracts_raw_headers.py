"""The raw topics' headers: the contract's and the gateway's are the same list."""

from contracts.providers import RAW_HEADERS, raw_headers
from gateway.records import raw_headers as gateway_raw_headers


def test_the_gateway_writes_the_contracts_raw_headers():
    args = ("braintree", "transaction_settled", "2026-01-02T03:04:05Z", "req-1")
    assert raw_headers(*args) == gateway_raw_headers(*args)
    assert [name for name, _ in raw_headers(*args)] == list(RAW_HEADERS)
