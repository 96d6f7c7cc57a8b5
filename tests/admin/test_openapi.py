"""``/openapi.json`` describes exactly the gateway's routes, and schemathesis fuzzing of the
running server finds no 5xx and no undocumented status."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.routing import BaseRoute, Route

from hybrid_calendar import hookimpl
from hybrid_calendar.admin.credentials import Role, add_credential
from hybrid_calendar.admin.openapi import document, mismatches
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.engine.conftest import Stack, running_stack

FUZZ_SECONDS = int(os.environ.get("HYBRID_CALENDAR_FUZZ_SECONDS", "25"))
"""Schemathesis' time budget: short in the default run, longer with ``make fuzz``."""


ALL_PLUGINS = ["google", "join_info", "kms_local", "webex", "people"]
"""Every built-in plugin a deployment runs (the emulators serve their own apps)."""


def test_hook_describe_routes_the_document_matches_every_real_route(tmp_path: Path) -> None:
    config, pm = load_config(None, overrides={"plugins": {
        "enabled": ALL_PLUGINS, "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    gateway = build_gateway(config, pm)
    plugin_routes: list[BaseRoute] = []
    gateway.hooks.register_routes(gateway, plugin_routes.append)
    plugin_paths = {(r.path, m.lower()) for r in plugin_routes if isinstance(r, Route)
                    for m in r.methods or () if m != "HEAD"}
    assert {("/webhooks/google", "post"), ("/webhooks/webex/{org_id}", "post"),
            ("/api/v1/me", "get"), ("/api/v1/organisations/{org_id}/webhooks", "post"),
            ("/api/v1/users/{user_id}/access", "delete")} <= plugin_paths
    served = {(r.path, m.lower()) for r in create_app(gateway).routes
              if isinstance(r, Route) for m in (r.methods or ()) if m != "HEAD"}
    assert plugin_paths <= served
    spec = document(gateway)
    documented = {(path, method) for path, item in spec["paths"].items()
                  for method in item}
    assert served - documented == set(), "routes missing from /openapi.json"
    assert documented - served == set(), "/openapi.json documents routes that do not exist"
    assert mismatches(create_app(gateway).routes, spec) == (set(), set())
    for path, item in spec["paths"].items():
        for method, described in item.items():
            assert described["summary"] and described["responses"], (method, path)


def test_an_undescribed_plugin_route_is_logged_at_start(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Undescribed:
        @hookimpl
        def register_routes(self, register: Callable[[BaseRoute], None]) -> None:
            register(Route("/x/hidden", lambda request: None, methods=["GET"]))

    config, pm = load_config(None, overrides={"plugins": {
        "enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    pm.register(Undescribed(), name="undescribed")
    with caplog.at_level(logging.WARNING):
        create_app(build_gateway(config, pm))
    assert "route GET /x/hidden is missing from /openapi.json" in caplog.text


@pytest.mark.anyio
async def test_schemathesis_finds_no_server_error_nor_undocumented_status(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    async with running_stack(emulator, tmp_path, plugins=ALL_PLUGINS) as stack:
        await fuzz(stack, tmp_path)


async def fuzz(stack: Stack, tmp_path: Path) -> None:
    secret = await add_credential(stack.gateway, "fuzzer", Role.ADMIN)
    served = (await stack.admin.get("/openapi.json")).json()
    assert served == json.loads(json.dumps(document(stack.gateway)))
    assert "/webhooks/google" in served["paths"] and "/api/v1/me" in served["paths"]
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a test dependency (pyproject [test])"
    report = tmp_path / "report.xml"
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        st, "run", f"{stack.base_url}/openapi.json", "--auth", f"fuzzer:{secret}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance",
        "--max-examples", "12", "--seed", "1", "--generation-database", "none",
        "--workers", "1", "--max-time", str(FUZZ_SECONDS), "--no-color",
        "--report", "junit", "--report-junit-path", str(report),
        "--request-timeout", "20", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)  # its cache stays out of the repo
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    (tmp_path / "st.txt").write_text(text)
    assert process.returncode == 0, text[-6000:]
    assert time.monotonic() - started < FUZZ_SECONDS * 2
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        assert (await client.get("/healthz")).status_code == 200  # still serving
