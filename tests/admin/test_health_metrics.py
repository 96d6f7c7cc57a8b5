"""Health you can act on: per-user sync health, per-organisation quota, /metrics."""

from __future__ import annotations

import httpx
import pytest

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar_google.quota import PROJECT_BUDGET_NAME as PROJECT
from hybrid_calendar_google.quota import USER_BUDGET_NAME as USER
from hybrid_calendar_google_emulator.dispatch import QUOTA_COST
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
                  outcome="ok") >= 4  # token, settings, vacation, watch, events
    assert sample(text, "hybrid_calendar_users", state="active") == 1
    assert sample(text, "hybrid_calendar_jobs", state="queued") == 0
    assert sample(text, "hybrid_calendar_deliveries_total", sink="capture",
                  kind="meetings_changed", outcome="delivered") >= 1
    used = sample(text, "hybrid_calendar_quota_used", org="org1", budget=PROJECT)
    assert used >= units_charged(stack)
    assert sample(text, "hybrid_calendar_quota_limit", org="org1", budget=PROJECT) == 10_000


async def test_a_parked_job_shows_in_the_jobs_gauge_that_alerts_use(stack: Stack) -> None:
    """``hybrid_calendar_jobs{state="parked"}`` (docs/operations.md's alert) is 0 until a
    job fails for good, then counts it: a permanent refusal parks the sync at once."""
    async with httpx.AsyncClient(base_url=stack.base_url) as anonymous:
        before = (await anonymous.get("/metrics")).text
        assert sample(before, "hybrid_calendar_jobs", state="parked") == 0
        await stack.activate(ALICE)
        stack.emu.control({"errors": [{"status": 400, "reason": "badRequest", "count": 1,
                                       "path": "/events$"}]})
        stack.emu.state.insert_event(ALICE, at(2, summary="Quarterly planning"))
        await stack.idle()
        after = (await anonymous.get("/metrics")).text
    assert sample(after, "hybrid_calendar_jobs", state="parked") == 1
    assert await stack.gateway.store.job_counts() == {"parked": 1}


def units_charged(stack: Stack, user: str | None = None) -> int:
    """Google quota units the emulator charged (for one user, or in all)."""
    return sum(QUOTA_COST.get(r.operation, 1) for r in stack.emu.state.request_log
               if r.operation is not None
               and r.operation.startswith(("calendar.", "gmail."))  # not token grants
               and user in (None, r.user))


async def test_hook_report_quota_google_units_read_from_the_shared_budget(
        stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(1, summary="Room", location="@meet"))
    await stack.activate(ALICE)  # the invite write is one events.update: 1 unit
    await stack.activate(BOB)
    assert any(r.operation == "calendar.events.update" for r in stack.emu.state.request_log)
    response = await stack.admin.get("/api/v1/organisations/org1/health")
    assert response.status_code == 200
    budgets = {b["name"]: b for b in response.json()["budgets"]}
    assert set(budgets) == {PROJECT, USER}
    project, busiest = budgets[PROJECT], budgets[USER]
    assert (project["limit"], busiest["limit"]) == (10_000, 600)
    assert project["window_seconds"] == busiest["window_seconds"] == 60.0
    # Units are taken from the store in blocks (a fiftieth of the limit) and spent
    # within a sub-window (10 s): what is read is what was taken, at most a few blocks
    # above what Google charged.
    spent = units_charged(stack)
    most = max(units_charged(stack, ALICE), units_charged(stack, BOB))
    assert spent <= project["used"] <= spent + 3 * 200
    assert most <= busiest["used"] <= most + 3 * 12
    assert busiest["used"] < project["used"]

    # Another process of the same database reads the same figures from the store.
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["google", "join_info", "kms_local"],
                    "load_entrypoints": False},
        "gateway": {"data_dir": stack.gateway.config.get("gateway", "data_dir")},
        "google": {"service_account_json": "{}"}}, environ={})
    other = build_gateway(config, pm)
    await other.store.open()
    try:
        seen = {u.name: u.used for u in await other.hooks.report_quota(other, "org1")}
    finally:
        await close_gateway(other)
    assert seen[PROJECT] == project["used"] and seen[USER] == busiest["used"]


async def test_org_quota_of_an_unknown_organisation_is_404(stack: Stack) -> None:
    assert (await stack.admin.get("/api/v1/organisations/nope/health")).status_code == 404
