"""docs/admin.md cannot drift from the code: reason codes, states and scopes are checked
both ways (tests/admin/test_admin_docs.py checks each code's row word for word)."""

from __future__ import annotations

import re
from pathlib import Path

from hybrid_calendar.admin.reasons import REASONS, ReasonCode
from hybrid_calendar.models import UserState
from hybrid_calendar_google.auth import DEFAULT_SCOPES
from hybrid_calendar_webex.settings import OPTIONAL_SCOPES, REQUIRED_SCOPES

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "admin.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", TEXT, re.M | re.S)
    assert match, f"docs/admin.md lost its section {title!r}"
    return match.group(1)


def first_column(table_text: str) -> list[str]:
    """The backquoted first cells of a Markdown table's rows."""
    return re.findall(r"^\s*\| `([^`]+)` \|", table_text, re.M)


def block(name: str) -> str:
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", TEXT, re.S)
    assert match, f"docs/admin.md lost its {name} block"
    return match.group(1)


def test_the_reason_code_table_lists_exactly_the_codes_in_their_order() -> None:
    assert first_column(section("Reason codes")) == [str(code) for code in ReasonCode]
    assert set(REASONS) == set(ReasonCode)


def test_the_states_table_lists_exactly_the_activation_states() -> None:
    documented = first_column(section("Activation states"))
    assert sorted(documented) == sorted(str(state) for state in UserState)


def test_the_google_scopes_are_the_ones_the_gateway_requests() -> None:
    [line] = [line.strip() for line in block("google-scopes").splitlines()
              if line.strip().startswith("https://")]
    assert line == ",".join(DEFAULT_SCOPES)


def test_the_webex_scopes_are_the_ones_the_gateway_checks() -> None:
    rows = re.findall(r"^\s*\| `([^`]+)` \| (required|optional):", block("webex-scopes"), re.M)
    assert [scope for scope, kind in rows if kind == "required"] == list(REQUIRED_SCOPES)
    assert sorted(scope for scope, kind in rows if kind == "optional") == sorted(
        OPTIONAL_SCOPES)
