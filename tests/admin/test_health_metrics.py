"""Health you can act on: per-user sync health, per-organisation quota, /metrics."""

from __future__ import annotations

import httpx
import pytest

from tests.engine.conftest import ALICE, BOB, Stack
from tests.engine.test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        metric, _, label_text = key.partition("{")
        have = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if metric == name and have == wanted:
            return float(value)
    raise AssertionError(f"no sample {name}{{{wanted}}} in /metrics")


async def test_sync_failure_shows_code_and_backoff_then_clears(stack: Stack) -> None:
    await stack.activate(ALICE)
    user_id = stack.user_ids[ALICE]
    stack.emu.control({"errors": [{"status": 503, "count": 1, "path": "/events$"}]})
    stack.emu.state.insert_event(ALICE, at(2, summary="Later"))
    await stack.idle()
    health = (await stack.admin.get(f"/api/v1/users/{user_id}/health")).json()
    assert health["last_error_code"] == "provider_unavailable"
    assert health["consecutive_failures"] == 1 and health["backoff_until"]
    assert (health["state"], health["reason_code"]) == ("active", None)
    assert health["channel_expires_at"]
    assert "Later" not in str(health)
    await stack.run_retries()
    health = (await stack.admin.get(f"/api/v1/users/{user_id}/health")).json()
    assert (health["consecutive_failures"], health["backoff_until"]) == (0, None)
    assert health["last_error_code"] == "provider_unavailable"  # kept for the record
    assert health["last_success_at"] > health["last_error_at"]


async def test_sync_token_resets_are_counted(stack: Stack) -> None:
    await stack.activate(BOB)
    stack.emu.state.invalidate_sync_tokens(BOB)
    stack.emu.state.insert_event(BOB, at(3, summary="After reset"))
    await stack.idle()
    health = (await stack.admin.get(f"/api/v1/users/{stack.user_ids[BOB]}/health")).json()
    assert health["sync_token_resets"] == 1


async def test_metrics_and_org_quota(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(1, summary="Listed"))
    await stack.activate(ALICE)
    async with httpx.AsyncClient(base_url=stack.base_url) as anonymous:
        response = await anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "hybrid_calendar_sync_seconds_count") >= 1
    assert sample(text, "hybrid_calendar_outbound_calls_total", service="google",
                  outcome="ok") >= 4  # token, settings, probe, vacation, watch, events
    assert sample(text, "hybrid_calendar_users", state="active") == 1
    assert sample(text, "hybrid_calendar_jobs", state="queued") == 0
    assert sample(text, "hybrid_calendar_deliveries_total", sink="capture",
                  kind="meetings_changed", outcome="delivered") >= 1
    quota = (await stack.admin.get("/api/v1/organisations/org1/health")).json()
    assert quota["calls_last_minute"] >= 1
    assert quota["project_budget_per_minute"] == 10_000
