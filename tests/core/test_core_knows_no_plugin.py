"""The core imports no plugin package: plugins depend on the core, never the reverse.

Every module under ``core/`` is parsed (not imported) and every ``import``/``from ...
import`` anywhere in it, function-level ones included, plus ``importlib.import_module``
and ``__import__`` calls with a literal name, is checked against the plugin packages: the
folders under ``plugins/*/``. Built-in plugins are loaded by name through
``hybrid_calendar.plugins.BUILTIN_PLUGINS``, like third-party ones through entry points.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
PLUGIN_PACKAGES = frozenset(path.name for path in ROOT.glob("plugins/*/*")
                            if (path / "__init__.py").is_file())


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` for every absolute import in ``tree``, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and _called_name(node.func) in ("import_module", "__import__")):
            found.append((node.lineno, node.args[0].value))
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def plugin_imports(source: str) -> list[str]:
    """``"line N: module"`` for each import of a plugin package in ``source``."""
    return [f"line {line}: {module}" for line, module in imported_modules(ast.parse(source))
            if module.partition(".")[0] in PLUGIN_PACKAGES]


def test_plugin_packages_are_found() -> None:
    assert {"hybrid_calendar_google", "hybrid_calendar_google_emulator",
            "hybrid_calendar_kms", "hybrid_calendar_webex"} <= PLUGIN_PACKAGES


@pytest.mark.parametrize("source", [
    "import hybrid_calendar_google.sync",
    "from hybrid_calendar_kms import local",
    "def run():\n    from hybrid_calendar_google_emulator.testing import running_emulator\n",
    "class A:\n    def m(self):\n        import hybrid_calendar_webex as w\n",
    "import importlib\nimportlib.import_module('hybrid_calendar_google.plugin')",
    "__import__('hybrid_calendar_kms')",
])
def test_the_check_catches_every_kind_of_import(source: str) -> None:
    assert plugin_imports(source)


def test_the_check_leaves_core_imports_alone() -> None:
    assert plugin_imports("import hybrid_calendar.models\nfrom . import hookspecs\n"
                          "from hybrid_calendar.hooks import Hooks\n"
                          "NAMES = ('hybrid_calendar_google.plugin',)\n") == []


def test_no_core_module_imports_a_plugin_package() -> None:
    offenders = {str(path.relative_to(ROOT)): found
                 for path in sorted(CORE.rglob("*.py"))
                 if (found := plugin_imports(path.read_text(encoding="utf-8")))}
    assert offenders == {}
