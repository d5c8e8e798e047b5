"""Approximate, currency-aware amount comparison for scoring rules.

Rules compare amounts against USD thresholds; a raw minor-unit comparison would rate
a 10,000 JPY (about 67 USD) purchase like a 10,000 USD one. The rates are coarse on
purpose: they only place an amount in a band, they never price anything.
"""

from __future__ import annotations

from contracts.currencies import MINOR_UNIT_EXPONENT

# USD per one major unit, rounded. Fixed so that scores never drift with markets.
_USD_PER_MAJOR: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0067,
    "CAD": 0.73,
    "AUD": 0.66,
    "CHF": 1.13,
    "CNY": 0.14,
    "HKD": 0.128,
    "NZD": 0.60,
    "SEK": 0.095,
    "SGD": 0.74,
    "NOK": 0.093,
    "MXN": 0.055,
    "INR": 0.012,
    "BRL": 0.18,
    "KRW": 0.00073,
    "ZAR": 0.054,
    "DKK": 0.145,
    "PLN": 0.25,
}


def is_known_currency(currency: str) -> bool:
    """Whether the table holds a rate for this ISO 4217 code."""
    return currency.upper() in _USD_PER_MAJOR


def to_usd(amount_minor: int, currency: str) -> float:
    """Approximate USD value of an amount given in the currency's minor units.

    An unknown code is read as a two-decimal currency at par, so that the rules stay
    total; callers flag it separately with is_known_currency.
    """
    code = currency.upper()
    major = amount_minor / 10 ** MINOR_UNIT_EXPONENT.get(code, 2)
    return major * _USD_PER_MAJOR.get(code, 1.0)
