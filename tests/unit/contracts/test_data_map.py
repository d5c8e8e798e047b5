"""The data map covers every fixture field, agrees with the redaction, and is the README's.

The fixtures are every provider's real webhooks (``shared/fixtures/stripe``,
``tests/fixtures/providers``), walked field by field as the data map names fields
(``tests/fixture_fields.py``).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from contracts import PROVIDER_NAMES, PaymentEvent
from contracts.data_map import FIELD_RULES, Category, Treatment
from contracts.data_map_index import MASKED_KEYS, classify, normalize_key
from contracts.data_map_markdown import BEGIN, END, render_markdown
from contracts.redaction import redact_payload
from tests.fixture_fields import (
    SENSITIVE,
    event_texts,
    fixture_records,
    found_in,
    mapped_event,
    sensitive_values,
)

README = Path(__file__).resolve().parents[3] / "README.md"
RECORDS = fixture_records()
# Fixture keys that look personal by name but are not, each with why; any other such key
# left to a provider's fallback rule fails the test below until the map decides it.
LOOKS_PERSONAL = re.compile(r"name|mail|phone|address|street|city|zip|postal|birth|holder|"
                            r"iban|expir|exp(month|year)|finger|bin$|^iin$|^pan$|cvc|cvv|^ip|"
                            r"token|secret|number|url|signature|description|descriptor|line1")
NOT_PERSONAL = {
    "casenumber": "a dispute's case number at Braintree",
    "referencenumber": "a dispute's reference at Braintree",
    "purchaseordernumber": "the merchant's order number",
    "receiptnumber": "the receipt's number, not its link",
    "reasondescription": "Braintree's text for a dispute reason code",
    "cvcstatus": "a check's result", "cvvstatus": "a check's result",
    "cvccheck": "a check's result", "addressline1check": "a check's result",
    "addresspostalcodecheck": "a check's result", "addresszipcheck": "a check's result",
    "tokenizationmethod": "apple_pay, google_pay",
    "statementdescription": "the merchant's descriptor", "statementdescriptor": "the same",
    "statementdescriptorsuffix": "the same", "calculatedstatementdescriptor": "the same",
    "description": "the merchant's description of the charge",
    "url": "an API path", "docurl": "Stripe's documentation", "threedsmethodurl": "3-D Secure",
    "directoryservername": "the card network's 3-D Secure server",
}


def test_the_readme_holds_the_data_map_as_rendered():
    text = README.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    start = text.index(BEGIN)
    assert text[start:text.index(END) + len(END)] == render_markdown(), (
        "run `python -m contracts.data_map_markdown` and paste it into the README")


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.provider}:{r.name}")
def test_every_field_has_a_rule_that_agrees_with_the_redaction(record):
    assert record.fields
    for path, _ in record.fields:
        rule = classify(record.provider, path)
        assert rule is not None, path
        segments = re.split(r"\.|\[\]", path)
        masked = any(normalize_key(s) in MASKED_KEYS for s in segments if s)
        assert masked == (rule.copies is Treatment.MASKED), (path, rule)


def test_no_field_that_looks_personal_is_left_to_a_fallback():
    left = {(r.provider, path) for r in RECORDS for path, _ in r.fields
            if classify(r.provider, path).fallback
            and LOOKS_PERSONAL.search(key := normalize_key(path.rsplit(".", 1)[-1]))
            and key not in NOT_PERSONAL}
    assert not left


def test_every_provider_has_its_rules_down_to_a_fallback():
    # A new provider's fields are in the map before it ships (README, "Adding a provider").
    for name in PROVIDER_NAMES:
        assert any(r.provider == name and r.fallback and r.paths == ("*",) for r in FIELD_RULES)


def test_card_personal_and_credential_fields_are_masked_and_never_kept_whole():
    for rule in FIELD_RULES:
        if rule.category in SENSITIVE:
            assert rule.copies is Treatment.MASKED, rule
        if rule.category is Category.CARD_DATA and rule.event is Treatment.KEPT:
            # Adyen's reason: a refusal's text; the success's card data never reaches it.
            assert rule.provider == "adyen" and rule.event_field == "failure_message"


def test_kept_rules_name_a_field_of_the_unified_event_and_dropped_ones_none():
    names = {f.name for f in dataclasses.fields(PaymentEvent)}
    for rule in FIELD_RULES:
        if rule.event in (Treatment.KEPT, Treatment.ALLOW_LISTED):
            assert rule.event_field in names, rule
        else:
            assert rule.event_field is None, rule
        if rule.event is Treatment.ALLOW_LISTED:
            assert rule.event_field == "metadata", rule


def test_the_fixtures_carry_card_and_personal_values_to_look_for():
    providers = {r.provider for r in RECORDS if sensitive_values(r)}
    assert providers == {"stripe", "adyen", "braintree", "square"}
    everything = set().union(*(sensitive_values(r) for r in RECORDS))
    # The kinds the issue names: expiry, fingerprint, BIN, names, e-mail, addresses.
    assert {"03/2030", "ZoVSX2dK5igWt2SB", "555555", "Jenny Rosen", "amitree.apu@gmail.com",
            "510 Townsend St", "Dan Schulman"} <= everything


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.provider}:{r.name}")
def test_the_unified_event_keeps_brand_and_last_four_and_no_other_card_data(record):
    event = mapped_event(record)
    texts = "\n".join(event_texts(event))
    # Only values the event keeps whole are allowed: a refusal's reason (Adyen), an id that
    # a fixture repeats in a credential field; expiry inside a message would be found.
    assert not [v for v in sensitive_values(record) if found_in(v, texts)]
    assert event.card_last_four is None or re.fullmatch(r"[0-9]{4}", event.card_last_four)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.provider}:{r.name}")
def test_a_redacted_copy_holds_none_of_the_fixtures_sensitive_values(record):
    redacted = redact_payload(record.value)
    assert redacted.text is not None
    assert not [v for v in sensitive_values(record) if found_in(v, redacted.text)]
    # An excerpt cut mid-document (as letters written before redaction hold) is read as
    # text, or as a form cut short: still none of them.
    for share in (0.3, 0.5, 0.7, 0.9):
        cut = redact_payload(record.value[:int(len(record.value) * share)]).text
        assert not [v for v in sensitive_values(record) if found_in(v, cut)], share
