"""Prometheus metrics at ``/metrics`` and the per-organisation quota view.

One registry per gateway (kept in ``gateway.state``), so several gateways in one process
(tests) never share counters. What is measured:

| metric | labels | where |
|---|---|---|
| ``hybrid_calendar_sync_seconds`` (histogram) | | each successful user sync |
| ``hybrid_calendar_sync_failures_total`` | ``code`` | each failed sync job |
| ``hybrid_calendar_jobs`` (gauge) | ``state`` | job queue depth, read at scrape time |
| ``hybrid_calendar_users`` (gauge) | ``state`` | users by activation state, at scrape time |
| ``hybrid_calendar_outbound_calls_total`` | ``service``, ``outcome`` | shared HTTP client |
| ``hybrid_calendar_deliveries_total`` | ``sink``, ``kind``, ``outcome`` | each attempt |
| ``hybrid_calendar_quota_used`` (gauge) | ``org``, ``budget`` | hook ``report_quota``, at scrape |
| ``hybrid_calendar_quota_limit`` (gauge) | ``org``, ``budget`` | the same |

``service`` is the plugin section whose configured ``*_url``/``*_uri`` setting the
request's URL starts with (``google``, ``webex``, ...), else ``other``. ``outcome`` is
``ok``, ``rate_limited`` (429), ``client_error``, ``server_error``.

The quota gauges are what the plugins report through the ``report_quota`` hook for each
organisation: every budget they enforce, read from the state that enforces it (the
store's shared budgets), so every process of a database shows the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hybrid_calendar.admin.sql import execute

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

STATE_KEY = "admin.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class GatewayMetrics:
    """The registry and instruments of one gateway."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.sync_seconds = Histogram("hybrid_calendar_sync_seconds",
                                      "Duration of successful user syncs", registry=r,
                                      buckets=(.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))
        self.sync_failures = Counter("hybrid_calendar_sync_failures",
                                     "Failed sync jobs by reason code", ["code"], registry=r)
        self.jobs = Gauge("hybrid_calendar_jobs", "Jobs in the queue by state", ["state"],
                          registry=r)
        self.users = Gauge("hybrid_calendar_users", "Users by activation state", ["state"],
                           registry=r)
        self.calls = Counter("hybrid_calendar_outbound_calls",
                             "Outbound HTTP calls by service and outcome",
                             ["service", "outcome"], registry=r)
        self.deliveries = Counter("hybrid_calendar_deliveries",
                                  "Sink delivery attempts by outcome",
                                  ["sink", "kind", "outcome"], registry=r)
        self.quota_used = Gauge("hybrid_calendar_quota_used",
                                "Units used of each budget in its window ending now",
                                ["org", "budget"], registry=r)
        self.quota_limit = Gauge("hybrid_calendar_quota_limit",
                                 "Units each budget allows per window", ["org", "budget"],
                                 registry=r)


def metrics(gateway: Gateway) -> GatewayMetrics:
    """This gateway's metrics (created on first use)."""
    return gateway.state.get_or_create(STATE_KEY, GatewayMetrics, GatewayMetrics)


def outcome_of(status: int) -> str:
    """``ok``, ``rate_limited``, ``client_error`` or ``server_error``."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "client_error" if status >= 400 else "ok"


def service_prefixes(gateway: Gateway) -> list[tuple[str, str]]:
    """``(url prefix, section)`` of every configured URL setting, longest first."""
    found = []
    for section, values in gateway.config.values.items():
        for key, value in values.items():
            if key.endswith(("_url", "_uri")) and isinstance(value, str) and \
                    value.startswith(("http://", "https://")) and section != "gateway":
                found.append((value.rstrip("/"), section))
    return sorted(found, key=lambda item: -len(item[0]))


def count_outbound_calls(gateway: Gateway, client: httpx.AsyncClient) -> None:
    """Count every response of ``client`` by service and outcome."""
    prefixes = service_prefixes(gateway)
    recorder = metrics(gateway)

    async def on_response(response: httpx.Response) -> None:
        url = str(response.request.url)
        service = next((name for prefix, name in prefixes if url.startswith(prefix)),
                       "other")
        recorder.calls.labels(service, outcome_of(response.status_code)).inc()

    hooks = dict(client.event_hooks)
    hooks["response"] = [*hooks.get("response", []), on_response]
    client.event_hooks = hooks


JOB_STATES = ("queued", "running", "parked")
"""The states of a stored job (a parked job failed for good and waits for an operator), each
exposed by ``hybrid_calendar_jobs`` even at 0, so that an alert on it has a series."""


def count_delivery(gateway: Gateway, sink: str, kind: str, outcome: str) -> None:
    """Count one delivery attempt's outcome (``delivered``, ``pending``, ``dead``, ...)."""
    metrics(gateway).deliveries.labels(sink, kind, outcome).inc()


async def exposition(gateway: Gateway) -> bytes:
    """The metrics text, with queue depth and user states read now."""
    recorder = metrics(gateway)
    counts = await gateway.store.job_counts()
    for state in {*JOB_STATES, *counts}:
        recorder.jobs.labels(state).set(counts.get(state, 0))

    def users(db: Any) -> list[tuple[str, int]]:
        return [(str(s), int(n)) for s, n in execute(db,
            "SELECT state, count(*) FROM users GROUP BY state").fetchall()]

    by_state = dict(await gateway.store.call(users))
    for state in ("pending", "validating", "active", "error", "inactive", *by_state):
        recorder.users.labels(state).set(by_state.get(state, 0))
    quotas = [(org.id, await gateway.hooks.report_quota(gateway, org.id))
              for org in await gateway.store.list_organisations()]
    recorder.quota_used.clear()  # organisations and budgets come and go; no await from
    recorder.quota_limit.clear()  # here on, so a concurrent scrape never sees half
    for org_id, uses in quotas:
        for use in uses:
            recorder.quota_used.labels(org_id, use.name).set(use.used)
            recorder.quota_limit.labels(org_id, use.name).set(use.limit)
    return bytes(generate_latest(recorder.registry))


async def org_quota(gateway: Gateway, org_id: str) -> dict[str, Any]:
    """Every budget the plugins enforce on the organisation's calls (hook
    ``report_quota``), as JSON: ``{"org_id", "budgets": [{"name", "used", "limit",
    "window_seconds"}]}``."""
    uses = await gateway.hooks.report_quota(gateway, org_id)
    return {"org_id": org_id, "budgets": [
        {"name": u.name, "used": int(u.used), "limit": int(u.limit),
         "window_seconds": float(u.window_seconds)} for u in uses]}
