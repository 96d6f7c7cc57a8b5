"""The plugin keeps the gateway's KMS contract: the whole KeyStoreTests suite, joined by
writing one fixture."""

from __future__ import annotations

import pytest

from hybrid_calendar.crypto.testing import KeyStoreTests
from hybrid_calendar.gateway import Gateway


class TestVaultTransitKms(KeyStoreTests):
    """Every KeyStoreTests test, against the fake Vault over loopback."""

    @pytest.fixture
    def kms_gateway(self, gateway: Gateway) -> Gateway:
        """A gateway whose only KMS is vault_transit (see conftest.py)."""
        return gateway
