"""The KMS conformance suite (KeyStoreTests) refuses a plugin that forgets its keys."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

FORGETFUL_PLUGIN = '''
import os
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import pytest
from hybrid_calendar import hookimpl
from hybrid_calendar.crypto.testing import KeyStoreTests, build_gateway
from hybrid_calendar.errors import DecryptionError, KeyManagementError
from hybrid_calendar.models import KmsStatus, WrappedKey
from cryptography.exceptions import InvalidTag


class Keys:  # KEK versions held in the gateway's memory only: lost at every restart
    def __init__(self):
        self.versions = {"m-v1": AESGCM.generate_key(256)}
        self.current = "m-v1"


class ForgetfulKms:
    @staticmethod
    def keys(gateway):
        return gateway.state.get_or_create("forgetful", Keys, Keys)

    @hookimpl
    def wrap_key(self, gateway, plaintext, context):
        keys = self.keys(gateway)
        nonce = os.urandom(12)
        aad = keys.current.encode() + b"|" + context
        blob = nonce + AESGCM(keys.versions[keys.current]).encrypt(nonce, plaintext, aad)
        return WrappedKey("forgetful", keys.current, blob)

    @hookimpl
    def unwrap_key(self, gateway, wrapped, context):
        if wrapped.kms != "forgetful":
            return None
        keys = self.keys(gateway)
        if wrapped.key_ref not in keys.versions:
            raise KeyManagementError("unknown version")
        if len(wrapped.blob) < 28:
            raise DecryptionError("truncated")
        try:
            return AESGCM(keys.versions[wrapped.key_ref]).decrypt(
                wrapped.blob[:12], wrapped.blob[12:], wrapped.key_ref.encode() + b"|" + context)
        except InvalidTag:
            raise DecryptionError("does not authenticate") from None

    @hookimpl
    def rotate_master_key(self, gateway):
        keys = self.keys(gateway)
        keys.current = f"m-v{len(keys.versions) + 1}"
        keys.versions[keys.current] = AESGCM.generate_key(256)
        return keys.current

    @hookimpl
    def kms_status(self, gateway):
        return KmsStatus(kms="forgetful", healthy=True, current_key_ref=self.keys(gateway).current)


class TestForgetfulKms(KeyStoreTests):
    @pytest.fixture
    def kms_gateway(self):
        gateway = build_gateway([], {})
        gateway.pm.register(ForgetfulKms(), "forgetful")
        return gateway
'''


def test_a_kms_that_keeps_its_keys_in_memory_fails_the_suite(tmp_path: Path) -> None:
    (tmp_path / "test_forgetful.py").write_text(textwrap.dedent(FORGETFUL_PLUGIN))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "anyio",
         str(tmp_path / "test_forgetful.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"})
    assert "test_keys_and_current_version_survive_a_restart FAILED" in result.stdout \
        or "FAILED test_forgetful.py::TestForgetfulKms::test_keys_and_current_version_" \
           "survive_a_restart" in result.stdout, result.stdout[-3000:]
    assert "1 failed" in result.stdout, result.stdout[-3000:]
