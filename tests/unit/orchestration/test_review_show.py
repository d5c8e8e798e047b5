"""The review CLI's `show`: its arguments and how it presents an original (no server)."""

from __future__ import annotations

import hashlib

from orchestration.review import COMMANDS, parse_args
from orchestration.review_show import OriginalRecord, render, save

ROW = {"event_id": "stripe:evt_1", "review_status": "pending", "error_codes": ["a.b"],
       "payload_redaction": "redacted", "source_topic": "webhooks.stripe.charge",
       "source_partition": 2, "source_offset": 41}


def test_show_takes_an_event_id_and_an_optional_output(tmp_path):
    args = parse_args(["show", "stripe:evt_1", "--output", str(tmp_path / "o.bin")])
    assert (args.command, args.event_id, args.output.name) == ("show", "stripe:evt_1", "o.bin")
    assert COMMANDS["show"].__name__ == "show_original"


def test_the_original_is_shown_whole_with_its_digest_checked():
    value = b'{"name": "Jenny Rosen"}'
    original = OriginalRecord(b"evt_1", value, (("provider", b"stripe"),), 1_700_000_000_000)
    text = render({**ROW, "payload_sha256": hashlib.sha256(value).hexdigest()}, original)
    assert "webhooks.stripe.charge:2:41" in text and "matches the quarantine row" in text
    assert text.endswith(value.decode()) and "header provider: stripe" in text
    assert "DIFFERS" in render({**ROW, "payload_sha256": "0" * 64}, original)


def test_bytes_that_are_not_text_are_shown_as_base64_and_saved_exactly(tmp_path):
    original = OriginalRecord(None, b"\xff\x00", (), 0)
    assert render({**ROW, "payload_sha256": None}, original).endswith("base64:/wA=")
    save(original, tmp_path / "o.bin")
    assert (tmp_path / "o.bin").read_bytes() == b"\xff\x00"
