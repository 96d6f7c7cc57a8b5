"""The admin guide names every reason code with its fix; the operations guide every metric."""

from __future__ import annotations

from pathlib import Path

from hybrid_calendar.admin.reasons import REASONS, ReasonCode

ROOT = Path(__file__).resolve().parents[2]


def test_admin_guide_lists_every_reason_code_with_its_fix() -> None:
    text = (ROOT / "docs" / "admin.md").read_text()
    for code in ReasonCode:
        assert f"| `{code}` | {REASONS[code].meaning} | {REASONS[code].fix} |" in text, code


def test_operations_guide_lists_every_metric() -> None:
    from hybrid_calendar.admin.metrics import GatewayMetrics

    text = (ROOT / "docs" / "operations.md").read_text()
    names = {metric.name for metric in GatewayMetrics().registry.collect()}
    assert len(names) == 8  # the six of issue 13 and the two quota gauges
    for name in names:
        documented = name + ("_total" if name in {
            "hybrid_calendar_sync_failures", "hybrid_calendar_outbound_calls",
            "hybrid_calendar_deliveries"} else "")
        assert f"`{documented}`" in text, name
