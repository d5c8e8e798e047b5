"""Currencies the pipeline accepts, and what an amount in minor units means for each.

Amounts are always integers in the currency's minor unit. For a zero-decimal currency
(JPY, KRW) the minor unit *is* the major unit: 2000 JPY is two thousand yen, not twenty.

The upper bound ``MAX_AMOUNT_MINOR`` is a sanity limit on that integer, not a value in
dollars: 100,000,000 minor units is $1,000,000.00 in USD, but ¥100,000,000 (about
$650k) in JPY and ₩100,000,000 (about $70k) in KRW. We keep one bound for all
currencies because it is what the storage contract promises; a per-currency cap in
dollars would need FX rates, which a validator must not depend on.
"""

from types import MappingProxyType

MAX_AMOUNT_MINOR = 100_000_000

# ISO 4217 code -> number of decimal places of its minor unit.
MINOR_UNIT_EXPONENT = MappingProxyType(
    {
        "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2, "AUD": 2, "CHF": 2,
        "CNY": 2, "HKD": 2, "NZD": 2, "SEK": 2, "SGD": 2, "NOK": 2, "MXN": 2,
        "INR": 2, "BRL": 2, "KRW": 0, "ZAR": 2, "DKK": 2, "PLN": 2,
    }
)
SUPPORTED_CURRENCIES = frozenset(MINOR_UNIT_EXPONENT)
ZERO_DECIMAL_CURRENCIES = frozenset(c for c, e in MINOR_UNIT_EXPONENT.items() if e == 0)


def is_zero_decimal(currency: str) -> bool:
    return currency in ZERO_DECIMAL_CURRENCIES
