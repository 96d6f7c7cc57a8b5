"""docs/operations.md's metrics table names the label values the gateway exposes."""

from __future__ import annotations

import re
from pathlib import Path

from hybrid_calendar.admin.metrics import JOB_STATES

ROOT = Path(__file__).resolve().parents[2]


def test_the_jobs_gauge_row_lists_the_states_it_exposes() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    row = re.search(r"^\| `hybrid_calendar_jobs` \|.*$", text, re.M)
    assert row, "docs/operations.md lost the hybrid_calendar_jobs row"
    meaning = row.group(0).split("|")[4]
    assert re.findall(r"`(\w+)`", meaning) == list(JOB_STATES)
