"""The seam for faust's private names: a pinned upgrade that removes one fails here, by name."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from streams.faust_internals import PRIVATE_SYMBOLS

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
    assert present, f"faust no longer has {owner}.{name}: streams/faust_internals.py needs work"


def test_no_other_streams_module_uses_a_private_faust_or_aiokafka_name():
    private = {name for _, name in PRIVATE_SYMBOLS}
    offenders = []
    for path in STREAMS.rglob("*.py"):
        if path.name == "faust_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "attr", None) or getattr(node, "name", None)
            if isinstance(node, ast.alias):
                name = node.name
            if name in private:
                offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert not offenders, offenders
