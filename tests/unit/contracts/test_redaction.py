"""Redaction by the data map, as properties: no masked key's value survives at any depth, the
digest is always the original's, a copy stays within its budget, and redacting twice is once.

Documents are generated with secrets (text starting ``QXZ``, which nothing else generated
contains) only beneath masked keys, so "QXZ" anywhere in a redacted copy is a leak.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.data_map import FIELD_RULES, MASK, Treatment
from contracts.data_map_index import is_masked_key
from contracts.dead_letters import DeadLetter, ValidationIssue, redact_letter, redacted_excerpt
from contracts.limits import PAYLOAD_EXCERPT_BYTES
from contracts.redaction import REDACTED, WITHHELD, redact_payload
from contracts.redaction_text import redact_text

MARK = "QXZ"
# Every masked key as the data map spells it, and as other providers would: Braintree's
# dashes, upper camel case, Adyen's flat "billingAddress.city".
_NAMES = sorted({p.rsplit(".", 1)[-1] for r in FIELD_RULES if r.copies is Treatment.MASKED
                 for p in r.paths})
masked_keys = st.sampled_from(_NAMES).flatmap(lambda name: st.sampled_from([
    name, name.replace("_", "-"), name[:1].upper() + name[1:], f"billingAddress.{name}"]))
plain_keys = st.text("abcdefghijklmnopqrstuvw_", min_size=1, max_size=8).filter(
    lambda k: not is_masked_key(k))
plain = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
         | st.text("abcdefghijklmnopqrstuvw ,.:", max_size=12))
secret_text = st.text("abcdefghij0123456789 -/", max_size=16).map(lambda s: MARK + s)
secrets = st.recursive(secret_text, lambda inner: st.lists(inner, min_size=1, max_size=3)
                       | st.dictionaries(plain_keys, inner, min_size=1, max_size=3), max_leaves=6)


def _with_secret(doc: dict, key: str, value: Any) -> dict:
    return {**doc, key: value}


documents = st.recursive(
    st.dictionaries(plain_keys, plain, max_size=3),
    lambda inner: (st.dictionaries(plain_keys, inner | plain, max_size=3)
                   | st.lists(inner, max_size=3)
                   | st.builds(_with_secret, st.dictionaries(plain_keys, inner | plain,
                                                              max_size=2),
                               masked_keys, secrets)),
    max_leaves=20,
).map(lambda d: d if isinstance(d, dict) else {"items": d})
layouts = st.sampled_from([None, 1, 2])  # compact, or indented as providers send it


def masked_subtrees(value: Any, under_mask: bool = False):
    """Every leaf beneath a masked key, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from masked_subtrees(item, under_mask or is_masked_key(key))
    elif isinstance(value, list):
        for item in value:
            yield from masked_subtrees(item, under_mask)
    elif under_mask:
        yield value


@settings(max_examples=300, deadline=None)
@given(doc=documents, indent=layouts)
def test_no_value_of_a_masked_key_survives_at_any_depth(doc, indent):
    raw = json.dumps(doc, indent=indent).encode()
    redacted = redact_payload(raw)
    assert MARK not in redacted.text
    assert set(masked_subtrees(json.loads(redacted.text))) <= {MASK, None, ""}


@settings(max_examples=300, deadline=None)
@given(doc=documents, indent=layouts, share=st.floats(0, 1))
def test_a_document_cut_anywhere_keeps_no_secret(doc, indent, share):
    raw = json.dumps(doc, indent=indent).encode()
    redacted = redact_payload(raw[:int(len(raw) * share)])
    assert MARK not in redacted.text


@settings(max_examples=200, deadline=None)
@given(doc=documents, indent=layouts, share=st.floats(0, 1))
def test_redacting_a_redacted_copy_changes_nothing(doc, indent, share):
    raw = json.dumps(doc, indent=indent).encode()
    once = redacted_excerpt(raw[:int(len(raw) * share)])
    twice = redacted_excerpt(once.text.encode())
    assert twice.text == once.text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=3 * PAYLOAD_EXCERPT_BYTES)
       | documents.map(lambda d: json.dumps(d).encode())
       | st.text(max_size=3 * PAYLOAD_EXCERPT_BYTES).map(str.encode))
def test_the_digest_is_the_originals_and_the_copy_stays_within_its_budget(raw):
    excerpt = redacted_excerpt(raw)
    assert excerpt.sha256 == hashlib.sha256(raw).hexdigest() == redacted_excerpt(raw).sha256
    assert excerpt.length == len(raw)
    assert len(excerpt.text.encode()) <= PAYLOAD_EXCERPT_BYTES
    assert "\x00" not in excerpt.text
    assert excerpt.redaction in (REDACTED, WITHHELD)
    if excerpt.redaction == WITHHELD:
        assert excerpt.text == "" and excerpt.encoding == "base64"


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=2000) | documents.map(lambda d: json.dumps(d).encode()),
       legacy_encoding=st.sampled_from(["utf-8", "base64"]))
def test_a_letter_is_redacted_once_whoever_wrote_it(raw, legacy_encoding):
    # A letter from before redaction: its payload as the writer kept it, no redaction named.
    payload = (raw.decode("utf-8", "replace") if legacy_encoding == "utf-8"
               else base64.b64encode(raw).decode())
    old = DeadLetter("dlq:t:0:1", "t", 0, 1, payload, legacy_encoding,
                     [ValidationIssue("x", "y")], datetime(2026, 1, 1, tzinfo=UTC),
                     payload_sha256=hashlib.sha256(raw).hexdigest(), payload_length=len(raw))
    once = redact_letter(old)
    assert once.payload_redaction in (REDACTED, WITHHELD)
    assert MARK not in once.payload
    assert (once.payload_sha256, once.payload_length) == (old.payload_sha256, len(raw))
    assert redact_letter(once) == once


def test_card_numbers_and_email_addresses_are_masked_in_any_text():
    text, count = redact_text("paid with 4242 4242 4242 4242 by jenny.rosen@example.com, "
                              "order 1234567890123 (not a card: it fails Luhn)")
    assert text == f"paid with {MASK} by {MASK}, order 1234567890123 (not a card: it fails Luhn)"
    assert count == 2
    assert json.loads(redact_payload(b'{"n": 4000056655665556}').text) == {"n": MASK}


def test_forms_xml_and_text_are_masked_by_key():
    assert redact_text("<bin>555555</bin><last-4>4444</last-4><expiration-month>12")[0] == (
        f"<bin>{MASK}</bin><last-4>4444</last-4><expiration-month>{MASK}")
    assert redact_text("a=1&email=foo%40x.com&name=Jenny+R")[0] == f"a=1&email={MASK}&name={MASK}"
    repr_like = redact_text("{'name': 'Jenny', 'amount': 12}")[0]
    assert repr_like == f"{{'name': '{MASK}', 'amount': 12}}"


def test_what_cannot_be_read_is_withheld_and_deep_nesting_is_read_as_text():
    assert redact_payload(b"\xff\xfe\x00 not utf-8").text is None
    nested = redact_payload(b"[" * 3000 + b"]" * 3000)
    assert nested.text == "[" * 3000 + "]" * 3000 and nested.masked == 0
    assert redact_payload(b"a\x00b").text == "a\ufffdb"


def test_unchanged_text_is_kept_as_it_was():
    body = b'{\n  "id": "evt_1",\n  "type": "payment_intent.unheard_of"\n}'
    assert redact_payload(body).text == body.decode()
    assert redact_payload(b'{"id": "evt_1", "type": ').text == '{"id": "evt_1", "type": '


def test_a_repeated_key_cannot_hide_a_value_from_redaction():
    # A parse into a dict keeps only the last of two equal keys; the first is still masked.
    redacted = redact_payload(b'{"name": "QXZ Jenny", "name": null}')
    assert MARK not in redacted.text and redacted.masked == 1
    cut = redact_payload(b'{"card": {"bin": "QXZ1", "b')  # "b" closes as a second key
    assert MARK not in cut.text
