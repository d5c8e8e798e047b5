"""The seams for faust's and temporalio's private names: a pinned upgrade that removes one fails
here, by name."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from streams import faust_internals, temporal_internals

PRIVATE_SYMBOLS = faust_internals.PRIVATE_SYMBOLS + temporal_internals.PRIVATE_SYMBOLS
SEAMS = {"faust_internals.py", "temporal_internals.py"}

STREAMS = Path(__file__).resolve().parents[3] / "streams"


def _owner(path: str):
    module, _, attr = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize(("owner", "name"), PRIVATE_SYMBOLS,
                         ids=[f"{o}.{n}" for o, n in PRIVATE_SYMBOLS])
def test_each_private_symbol_still_exists(owner, name):
    target = _owner(owner)
    # Instance attributes are set in __init__ and only show in its source.
    present = hasattr(target, name) or (
        inspect.isclass(target) and f"self.{name}" in inspect.getsource(target.__init__))
    assert present, f"{owner}.{name} is gone: its seam in streams/ needs work"


def test_no_other_streams_module_uses_a_private_library_name():
    private = {name for _, name in PRIVATE_SYMBOLS}
    offenders = []
    for path in STREAMS.rglob("*.py"):
        if path.name in SEAMS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "attr", None) or getattr(node, "name", None)
            if isinstance(node, ast.alias):
                name = node.name
            if name in private:
                offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert not offenders, offenders


def test_a_trusted_record_is_the_record_its_init_builds():
    from datetime import UTC, datetime

    from streams.faust_internals import trusted_record
    from streams.records import DeadLetterRecord, IssueRecord

    values = dict(event_id="dlq:t:0:1", source_topic="t", source_partition=0, source_offset=1,
                  payload="p", payload_encoding="utf-8", failed_at=datetime.now(UTC),
                  stage="validate", provider=None, provider_event_id=None, error_codes=["a"],
                  payload_sha256="0" * 64, payload_length=1, payload_truncated=False,
                  payload_redaction="redacted")
    built = DeadLetterRecord(**values, errors=[IssueRecord(code="a", message="m")])
    trusted = trusted_record(DeadLetterRecord, {
        **values, "errors": [trusted_record(IssueRecord, {"code": "a", "message": "m",
                                                          "field": None})]})
    assert trusted == built
    assert trusted.asdict() == built.asdict()
    assert trusted.dumps() == built.dumps()
    assert trusted.errors[0].field is None
