"""The example KMS (examples/hybrid-calendar-vault-kms) installs with pip, is found through
its entry point, and passes its own tests, KeyStoreTests included (installation:
conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_calendar.crypto.testing import KeyStoreTests
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV, get_plugin_manager, plugin_listing
from tests.examples.installing import environment, passed_in, run_own_tests, suite_tests


def test_the_entry_point_registers_the_kms_hooks(vault_kms: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(vault_kms))
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    try:
        pm = get_plugin_manager()
        plugin = pm.get_plugin("vault_transit")
        assert plugin is not None and Path(plugin.__file__).is_relative_to(vault_kms)
        hooks = {p["name"]: p["hooks"] for p in plugin_listing(pm)}["vault_transit"]
        assert hooks == ["check_config", "kms_status", "register_settings",
                         "rotate_master_key", "startup", "unwrap_key", "wrap_key"]
    finally:
        for module in [m for m in sys.modules if m.startswith("hybrid_calendar_vault_kms")]:
            sys.modules.pop(module)


def test_installed_but_unconfigured_it_leaves_the_default_kms_alone(vault_kms: Path,
                                                                     tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "hybrid_calendar.cli", "kms", "status"],
                            cwd=tmp_path, env=environment(vault_kms), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["kms"] == "local" and status["healthy"] is True


@pytest.mark.slow
def test_the_example_passes_its_own_tests_and_the_kms_conformance_suite(vault_kms: Path
                                                                         ) -> None:
    passed = run_own_tests("hybrid-calendar-vault-kms", vault_kms)
    missing = suite_tests(KeyStoreTests) - passed_in(passed, "TestVaultTransitKms")
    assert not missing, f"KeyStoreTests tests that did not pass: {sorted(missing)}"
