"""Plugins and core reach shared services as typed gateway attributes, never by probing.

``getattr(gateway, "cipher", None)`` or ``getattr(gateway.store, "...", None)`` hides a
missing service until run time and escapes the type checker; the gateway's attributes and
the ``Store`` interface are the contract (issue: provider-neutral core).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "core", *sorted((ROOT / "plugins").iterdir())]


def _mentions_gateway(node: ast.AST) -> bool:
    return any((isinstance(n, ast.Name) and n.id == "gateway")
               or (isinstance(n, ast.Attribute) and n.attr == "gateway")
               for n in ast.walk(node))


def probing_calls(tree: ast.AST) -> list[int]:
    """Lines of ``getattr``/``hasattr`` calls whose object is the gateway or part of it."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"} and node.args
            and _mentions_gateway(node.args[0])]


def test_the_detector_finds_probing() -> None:
    assert probing_calls(ast.parse('getattr(gateway, "cipher", None)')) == [1]
    assert probing_calls(ast.parse('hasattr(self.gateway.store, "x")')) == [1]
    assert probing_calls(ast.parse('getattr(err, "retry_after", None)')) == []


def test_no_module_probes_the_gateway_for_services() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}"
             for source in SOURCES for path in sorted(source.rglob("*.py"))
             for line in probing_calls(ast.parse(path.read_text(), str(path)))]
    assert found == []
