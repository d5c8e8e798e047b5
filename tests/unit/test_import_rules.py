"""The import rules every folder's README states, read from the AST of every product module.

- A service (gateway, streams, orchestration, batch, inference) imports, of the project's
  packages, only ``contracts``, ``telemetry`` and ``encryption``: never another service,
  infra or bench.
- ``contracts`` imports only the standard library, so any service can depend on it.
- ``telemetry`` and ``encryption`` (the Temporal payload codec) import only ``contracts``
  of the project.
- ``infra`` and ``bench`` may import any product package (they run the services).
- No product module imports ``tests``.
Imports inside functions count too; relative imports stay inside their own package.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = frozenset({"gateway", "streams", "orchestration", "batch", "inference"})
SHARED = frozenset({"contracts", "telemetry", "encryption"})
TOOLS = frozenset({"infra", "bench"})
PRODUCT = SERVICES | SHARED | TOOLS
PROJECT = PRODUCT | {"tests"}
# Of the project's packages, what each may import besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    **{service: SHARED for service in SERVICES},
    "contracts": frozenset(),
    "telemetry": frozenset({"contracts"}),
    "encryption": frozenset({"contracts"}),
    **{tool: PRODUCT for tool in TOOLS},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module, wherever it stands."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_top_level_package_has_a_rule():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert packages == PRODUCT, "classify the new package in ALLOWED and give it a README"


@pytest.mark.parametrize("package", sorted(PRODUCT))
def test_project_imports_follow_the_rules(package):
    allowed = ALLOWED[package] | {package}
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in modules_of(package)
              for line, module in imported_modules(path)
              if module.split(".")[0] in PROJECT and module.split(".")[0] not in allowed]
    assert not broken, f"{package} may import only {sorted(allowed)}:\n" + "\n".join(broken)


def test_contracts_imports_only_the_standard_library():
    outside = [f"{path.relative_to(ROOT)}:{line} imports {module}"
               for path in modules_of("contracts")
               for line, module in imported_modules(path)
               if module.split(".")[0] not in sys.stdlib_module_names | {"contracts"}]
    assert not outside, "contracts must stay framework-free:\n" + "\n".join(outside)


def test_every_top_level_folder_has_a_readme():
    folders = PROJECT
    assert [name for name in sorted(folders) if not (ROOT / name / "README.md").is_file()] == []


def test_the_rules_see_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from gateway.app import app\n    import streams.normalizer\n"
                      "from . import sibling\n")
    assert imported_modules(module) == [(2, "gateway.app"), (3, "streams.normalizer")]
