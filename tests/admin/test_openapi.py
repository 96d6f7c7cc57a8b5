"""``/openapi.json`` describes exactly the gateway's routes, and schemathesis fuzzing of the
running server finds no 5xx and no undocumented status."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.routing import BaseRoute, Route

from hybrid_calendar.admin.credentials import Role, add_credential
from hybrid_calendar.admin.openapi import document
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.loading import load_config
from tests.engine.conftest import Stack

FUZZ_SECONDS = int(os.environ.get("HYBRID_CALENDAR_FUZZ_SECONDS", "25"))
"""Schemathesis' time budget: short in the default run, longer with ``make fuzz``."""


def test_document_matches_the_real_routes(tmp_path: Path) -> None:
    config, pm = load_config(None, overrides={"plugins": {
        "enabled": ["google", "join_info", "kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    gateway = build_gateway(config, pm)
    plugin_routes: list[BaseRoute] = []
    gateway.hooks.register_routes(gateway, plugin_routes.append)
    plugin_paths = {r.path for r in plugin_routes if isinstance(r, Route)}
    served = {(r.path, m.lower()) for r in create_app(gateway).routes
              if isinstance(r, Route) and r.path not in plugin_paths
              for m in (r.methods or ()) if m != "HEAD"}
    documented = {(path, method) for path, item in document()["paths"].items()
                  for method in item}
    assert served - documented == set(), "routes missing from /openapi.json"
    assert documented - served == set(), "/openapi.json documents routes that do not exist"


@pytest.mark.anyio
async def test_schemathesis_finds_no_server_error_nor_undocumented_status(
        stack: Stack, tmp_path: Path) -> None:
    secret = await add_credential(stack.gateway, "fuzzer", Role.ADMIN)
    served = (await stack.admin.get("/openapi.json")).json()
    assert served == json.loads(json.dumps(document()))
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
