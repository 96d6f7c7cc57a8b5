"""The hook reference is generated from the hookspecs and must not go stale."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hybrid_calendar import hookspecs
from hybrid_calendar.cli import main
from hybrid_calendar.docs import render_config_markdown, render_hooks_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_hooks_md_is_up_to_date() -> None:
    assert (ROOT / "docs" / "hooks.md").read_text() == render_hooks_markdown(), (
        "docs/hooks.md is stale: run `hybrid-calendar docs hooks`")


def test_configuration_md_is_up_to_date() -> None:
    text = render_config_markdown()
    assert (ROOT / "docs" / "configuration.md").read_text() == text, (
        "docs/configuration.md is stale: run `hybrid-calendar docs config`")
    for section in ("[gateway]", "[sync]", "[google]", "[kms_local]", "[join_info]"):
        assert section in text


def test_every_hook_has_a_docstring_with_its_parameters() -> None:
    for name in hookspecs.HOOK_NAMES:
        function = getattr(hookspecs, name)
        doc = inspect.getdoc(function) or ""
        assert len(doc) > 80, f"hook {name} needs a real docstring"
        for param in inspect.signature(function).parameters:
            assert f":param {param}:" in doc, f"hook {name} does not document {param}"


def _documented_signatures() -> dict[str, str]:
    """``## name`` sections of docs/hooks.md and the first line of their code block."""
    text = (ROOT / "docs" / "hooks.md").read_text()
    found = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        name, _, body = section.partition("\n")
        match = re.search(r"```python\n(.+?)\n```", body, flags=re.DOTALL)
        found[name.strip()] = " ".join(match.group(1).split()) if match else ""
    return found


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_every_hook_is_in_hooks_md_with_its_signature(name: str) -> None:
    documented = _documented_signatures()
    assert name in documented, f"docs/hooks.md has no section for hook {name}"
    signature = inspect.signature(getattr(hookspecs, name))
    line = documented[name]
    assert line.startswith(f"{name}("), line
    params = [p for p in signature.parameters.values()]
    for param in params:
        assert f"{param.name}: {param.annotation}" in line, (
            f"docs/hooks.md: {name} does not show parameter {param.name}")
    assert line.endswith(f"-> {signature.return_annotation}"), (
        f"docs/hooks.md: {name} does not show its return type")
    assert len(params) == line.count(": "), f"docs/hooks.md: {name} has other parameters"


def test_hooks_md_documents_no_hook_that_does_not_exist() -> None:
    assert sorted(_documented_signatures()) == sorted(hookspecs.HOOK_NAMES)


def test_docs_hooks_check_command_detects_staleness(tmp_path: Path) -> None:
    target = tmp_path / "hooks.md"
    target.write_text("old\n")
    assert main(["docs", "hooks", "--output", str(target), "--check"]) == 1
    assert main(["docs", "hooks", "--output", str(target)]) == 0
    assert main(["docs", "hooks", "--output", str(target), "--check"]) == 0
