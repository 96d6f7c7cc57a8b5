"""Every ``hybrid-calendar ...`` command the docs name exists, and the production
configuration the quickstart shows is valid: no page can drift from the CLI or the
declared settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hybrid_calendar.cli import all_commands
from hybrid_calendar.loading import ENABLED_VARIABLE, load_config
from hybrid_calendar.plugins import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md",
         *sorted(ROOT.glob("examples/*/README.md"))]
MENTION = re.compile(r"(?:^|`|\$ )\s*(?:env \S+ )?hybrid-calendar((?: [a-z][a-z0-9-]*){1,2})",
                     re.M)
"""A command as written: at the start of a line or of inline code (``env X=1`` allowed)."""


def command_names() -> set[str]:
    """Every command with every built-in plugin enabled (the emulators' included)."""
    environ = {ENABLED_VARIABLE: ",".join(BUILTIN_PLUGINS)}
    return {command.name for command in all_commands(environ=environ)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_the_page_names_exists(page: Path) -> None:
    names = command_names()
    unknown = []
    for match in MENTION.finditer(page.read_text()):
        words = match.group(1).split()
        if words[0] in names or " ".join(words[:2]) in names:
            continue
        if words[0] in {"gateway", "plugin", "plugins", "demo"} and len(words) == 1:
            continue
        unknown.append(" ".join(words))
    assert not unknown, f"{page.name} names commands that do not exist: {unknown}"


def test_the_quickstart_production_configuration_is_valid() -> None:
    text = (ROOT / "docs" / "quickstart.md").read_text()
    match = re.search(r"<!-- production-config:begin -->\n\s*```toml\n(.*?)```", text, re.S)
    assert match, "docs/quickstart.md lost its production configuration"
    source = "\n".join(line.strip() for line in match.group(1).splitlines())
    values = tomllib.loads(source)
    environ = {"WEBEX_CLIENT_SECRET": "s", "WEBEX_ADMIN_TOKEN": "t", "WEBEX_BOT_TOKEN": "b"}
    config, pm = load_config(None, overrides=values, environ=environ)
    assert config.get("gateway", "public_url") == "https://gateway.acme.com"
    assert config.get("webex", "client_secret").reveal() == "s"
    for plugin in ("google", "webex", "people", "kms_local"):
        assert pm.has_plugin(plugin), plugin
