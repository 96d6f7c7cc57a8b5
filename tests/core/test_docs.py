"""The hook reference is generated from the hookspecs and must not go stale."""

from __future__ import annotations

import inspect
from pathlib import Path

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
    assert len(hookspecs.HOOK_NAMES) >= 15
    for name in hookspecs.HOOK_NAMES:
        function = getattr(hookspecs, name)
        doc = inspect.getdoc(function) or ""
        assert len(doc) > 80, f"hook {name} needs a real docstring"
        for param in inspect.signature(function).parameters:
            assert f":param {param}:" in doc, f"hook {name} does not document {param}"


def test_docs_hooks_check_command_detects_staleness(tmp_path: Path) -> None:
    target = tmp_path / "hooks.md"
    target.write_text("old\n")
    assert main(["docs", "hooks", "--output", str(target), "--check"]) == 1
    assert main(["docs", "hooks", "--output", str(target)]) == 0
    assert main(["docs", "hooks", "--output", str(target), "--check"]) == 0
