"""The example plugins, each installed by pip once per session (:mod:`.installing`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples.installing import pip_install


@pytest.fixture(scope="session")
def chat_sink(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/hybrid-calendar-chat-sink, installed."""
    return pip_install("hybrid-calendar-chat-sink", tmp_path_factory)


@pytest.fixture(scope="session")
def vault_kms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/hybrid-calendar-vault-kms, installed."""
    return pip_install("hybrid-calendar-vault-kms", tmp_path_factory)
