"""Shared fixtures. Tests never load third-party plugins installed on the machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trustme
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


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, trustme.CA]:
    """A certificate chain and key for 127.0.0.1 (PEM files in ``tmp_path``) issued by a
    test CA, and the CA (``ca.configure_trust(context)`` to trust it)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(key))
    for blob in cert.cert_chain_pems:
        blob.write_to_path(str(chain), append=True)
    return chain, key, ca
