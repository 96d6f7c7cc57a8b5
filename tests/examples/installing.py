"""Installing an example third-party plugin (``examples/*``) with pip into a directory of
its own, never into the project's environment (so no other test sees it), and running
things with that directory on the path and entry points on, as on a machine where an
integrator ran ``pip install``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def pip_install(example: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and install ``examples/<example>`` with pip (from a copy, so the build leaves
    nothing in the source tree); return the installation directory."""
    source = tmp_path_factory.mktemp("source") / example
    shutil.copytree(EXAMPLES / example, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    target = tmp_path_factory.mktemp("site-packages")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--disable-pip-version-check", "--target", str(target),
                             str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def environment(installed: Path) -> dict[str, str]:
    """This process's environment with ``installed`` on the path and entry points on."""
    env = {k: v for k, v in os.environ.items() if k != NO_ENTRYPOINTS_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(installed),
                                                       env.get("PYTHONPATH", "")]))
    return env


def run_own_tests(example: str, installed: Path) -> set[str]:
    """Run the example's own test suite against its installation; the ids that passed."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-rA"], cwd=EXAMPLES / example, env=environment(installed),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return set(re.findall(r"^PASSED (\S+)", result.stdout, re.M))


def suite_tests(suite: type) -> set[str]:
    """The test names of a conformance suite."""
    return {name for name in dir(suite) if name.startswith("test_")}


def passed_in(passed: set[str], test_class: str) -> set[str]:
    """The test names (without parameters) of ``test_class`` among ``passed`` ids."""
    return {test_id.split("::")[-1].split("[")[0] for test_id in passed
            if f"::{test_class}::" in test_id}
