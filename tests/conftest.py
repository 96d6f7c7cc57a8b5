"""Shared fixtures. Tests never load third-party plugins installed on the machine."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

os.environ["HYBRID_CALENDAR_NO_ENTRYPOINTS"] = "1"

# pytester: tests/core/test_hook_coverage.py runs a pytest inside; hook_calls: each
# test_hook_<name> must call hook <name> through a plugin manager; postgres_server: one
# real PostgreSQL server for the session, a fresh database per test that asks for one.
pytest_plugins = ["pytester", "tests.hook_calls", "tests.postgres_server"]

# Property tests explore new random examples on every developer run; the CI gate
# (`HYPOTHESIS_PROFILE=ci`, set by .ci/run) replays the same derandomized examples, so a
# red CI is a change's fault, never the draw's. A failure prints the blob that reproduces it.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio (the backend uvicorn uses)."""
    return "asyncio"
