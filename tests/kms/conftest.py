"""A real SoftHSM2 token for the PKCS#11 KMS tests.

softhsm2 is a hard requirement of these tests (CI installs it). When ``softhsm2-util`` is
missing they FAIL with instructions, unless ``HYBRID_CALENDAR_SKIP_SOFTHSM=1`` says the
skip is deliberate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE_CANDIDATES = ("/usr/lib/softhsm/libsofthsm2.so",
                     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                     "/usr/local/lib/softhsm/libsofthsm2.so",
                     "/opt/homebrew/lib/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class SoftHsm:
    """Where the test token is and how to log in."""

    module: str
    token_label: str
    pin: str


def _unavailable(reason: str) -> None:
    if os.environ.get("HYBRID_CALENDAR_SKIP_SOFTHSM") == "1":
        pytest.skip(f"{reason} (HYBRID_CALENDAR_SKIP_SOFTHSM=1)")
    pytest.fail(f"{reason}: install softhsm2 (Debian: apt-get install softhsm2) or set "
                "HYBRID_CALENDAR_SKIP_SOFTHSM=1 to skip the PKCS#11 tests deliberately",
                pytrace=False)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """Initialise a token in a temporary token directory, once per test session.

    SoftHSM2 reads ``SOFTHSM2_CONF`` when the library is first initialised in the process,
    so all tests share this token (each uses its own KEK label).
    """
    util = shutil.which("softhsm2-util")
    if util is None:
        _unavailable("softhsm2-util not found")
    module = os.environ.get("SOFTHSM2_MODULE") or next(
        (m for m in MODULE_CANDIDATES if Path(m).exists()), None)
    if module is None:
        _unavailable("libsofthsm2.so not found")
    state = tmp_path_factory.mktemp("softhsm")
    (state / "tokens").mkdir()
    conf = state / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {state / 'tokens'}\nobjectstore.backend = file\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run([str(util), "--init-token", "--free", "--label", "gw-kms-test",
                        "--pin", "1234", "--so-pin", "5678"], check=True, capture_output=True)
        yield SoftHsm(module=str(module), token_label="gw-kms-test", pin="1234")
