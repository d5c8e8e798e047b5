"""The dead letter's payload excerpt and issue caps: bounded, and honest about what they cut."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.dead_letters import (
    ValidationIssue,
    bound_issues,
    excerpt_payload,
)
from contracts.limits import ISSUE_MESSAGE_MAX_CHARS, MAX_ISSUES, PAYLOAD_EXCERPT_BYTES


def test_a_small_text_payload_is_kept_whole():
    excerpt = excerpt_payload(b'{"id": "evt_1"}')
    assert (excerpt.text, excerpt.encoding, excerpt.truncated) == ('{"id": "evt_1"}', "utf-8",
                                                                  False)
    assert excerpt.sha256 == hashlib.sha256(b'{"id": "evt_1"}').hexdigest()
    assert excerpt.length == 15


def test_a_long_text_payload_is_cut_on_a_character_boundary():
    raw = "é".encode() + "€".encode() * PAYLOAD_EXCERPT_BYTES  # 2 + 3n bytes
    excerpt = excerpt_payload(raw)
    assert excerpt.encoding == "utf-8" and excerpt.truncated
    assert len(excerpt.text.encode()) <= PAYLOAD_EXCERPT_BYTES
    assert raw.startswith(excerpt.text.encode())
    assert len(excerpt.text.encode()) > PAYLOAD_EXCERPT_BYTES - 3  # only the split char is lost
    assert (excerpt.length, excerpt.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())


@pytest.mark.parametrize("raw", [b"\xff\xfe poison", b'{"a": "\x00"}'])
def test_bytes_that_are_not_storable_text_are_base64(raw):
    excerpt = excerpt_payload(raw)
    assert excerpt.encoding == "base64" and not excerpt.truncated
    assert base64.b64decode(excerpt.text) == raw


def test_a_long_binary_payload_keeps_its_first_bytes_within_the_budget():
    raw = b"\xff" * (600 * 1024)
    excerpt = excerpt_payload(raw)
    assert excerpt.encoding == "base64" and excerpt.truncated
    assert len(excerpt.text) <= PAYLOAD_EXCERPT_BYTES
    assert raw.startswith(base64.b64decode(excerpt.text))
    assert excerpt.length == len(raw)


@given(st.binary(max_size=3 * PAYLOAD_EXCERPT_BYTES))
def test_an_excerpt_is_within_budget_and_a_prefix_of_the_payload(raw):
    excerpt = excerpt_payload(raw)
    data = excerpt.text.encode() if excerpt.encoding == "utf-8" else base64.b64decode(excerpt.text)
    assert len(excerpt.text.encode()) <= PAYLOAD_EXCERPT_BYTES
    assert raw.startswith(data)
    assert excerpt.truncated == (len(data) < len(raw))


def test_issues_are_capped_in_number_and_length():
    issues = [ValidationIssue("field.bad", "x" * 100_000, "f") for _ in range(MAX_ISSUES + 10)]
    bounded = bound_issues(issues)
    assert len(bounded) == MAX_ISSUES
    assert all(len(i.message) <= ISSUE_MESSAGE_MAX_CHARS for i in bounded)
    assert bounded[-1].code == "issues.truncated"
    assert bounded[-1].message.startswith("11 more issues")


def test_a_lone_surrogate_in_a_message_cannot_break_the_encoding():
    [issue] = bound_issues([ValidationIssue("x", "bad \ud800 value")])
    issue.message.encode("utf-8")
