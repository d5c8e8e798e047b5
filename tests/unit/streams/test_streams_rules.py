"""The pure validation rules: nulls, amounts, currencies, card digits, metadata."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.currencies import MAX_AMOUNT_MINOR, SUPPORTED_CURRENCIES
from streams.rules import (
    FieldError,
    InvalidEventError,
    check_amount,
    check_currency,
    check_last_four,
    normalize_null,
    parse_json_object,
    stringify_metadata,
)


def error_code(fn, *args) -> str:
    with pytest.raises(FieldError) as caught:
        fn(*args)
    return caught.value.code


@pytest.mark.parametrize("value", ["null", "NULL", "None", "", "   ", "\t\n", None])
def test_null_spellings_become_none(value):
    assert normalize_null(value) is None


@pytest.mark.parametrize("value", ["nullable", "0", 0, False, "x"])
def test_real_values_are_kept(value):
    assert normalize_null(value) == value


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_integer_amounts_in_range_pass_unchanged(amount):
    assert check_amount(amount) == amount


@pytest.mark.parametrize("value", [10.5, 10.0, "1000", True, False, [1], {"v": 1}])
def test_non_integer_amounts_are_rejected_not_truncated(value):
    assert error_code(check_amount, value) == "amount.not_integer"


@pytest.mark.parametrize("value", [-1, MAX_AMOUNT_MINOR + 1, 10**30])
def test_out_of_range_amounts_are_rejected(value):
    assert error_code(check_amount, value) == "amount.out_of_range"


@pytest.mark.parametrize("value", [None, "null", " "])
def test_missing_amount(value):
    assert error_code(check_amount, value) == "field.missing"


def test_jpy_bound_is_on_minor_units_which_are_yen():
    # Zero-decimal: 100,000,000 JPY is 100,000,000 minor units, not scaled by 100.
    assert check_amount(100_000_000) == 100_000_000
    assert error_code(check_amount, 100_000_001) == "amount.out_of_range"
    assert check_currency("jpy") == "JPY"


@pytest.mark.parametrize("code", sorted(SUPPORTED_CURRENCIES))
def test_supported_currencies_are_upper_cased(code):
    assert check_currency(code.lower()) == code


@pytest.mark.parametrize("value", ["XYZ", "usdd", "BTC", 840])
def test_unsupported_currencies(value):
    expected = "field.wrong_type" if not isinstance(value, str) else "currency.unsupported"
    assert error_code(check_currency, value) == expected


@pytest.mark.parametrize("value", ["NULL", "", None])
def test_missing_currency(value):
    assert error_code(check_currency, value) == "field.missing"


@pytest.mark.parametrize("value", ["4242", "0002"])
def test_last_four_valid(value):
    assert check_last_four(value) == value


@pytest.mark.parametrize("value", ["424", "42424", "4242424242424242", "42a2", "४२४२"])
def test_last_four_must_be_exactly_four_ascii_digits(value):
    assert error_code(check_last_four, value) == "card_last_four.invalid"


def test_metadata_is_stringified_and_nulls_dropped():
    meta = {"order": 6735, "vip": True, "note": "null", "tags": ["a"], "ratio": 0.5, "s": "x"}
    assert stringify_metadata(meta) == {
        "order": "6735", "vip": "true", "tags": '["a"]', "ratio": "0.5", "s": "x",
    }
    assert stringify_metadata(None) == {}
    assert error_code(stringify_metadata, ["not", "a", "dict"]) == "metadata.invalid"


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"\xff\xfe not json", "payload.not_json"), (b"{", "payload.not_json"),
     (b"[1, 2]", "payload.not_object"), (b'"text"', "payload.not_object"),
     (b"null", "payload.not_object"), (b"", "payload.not_json")],
)
def test_payload_must_be_a_json_object(raw, code):
    with pytest.raises(InvalidEventError) as caught:
        parse_json_object(raw)
    assert [i.code for i in caught.value.issues] == [code]
