"""The sink keeps the gateway's delivery contract: the whole SinkTests suite, joined by
writing one fixture."""

from __future__ import annotations

import pytest
from conftest import ChatWorld

from hybrid_calendar.sink_testing import SinkTests, SinkWorld


class TestChatSink(SinkTests):
    """Every SinkTests test, against the fake Chat over loopback."""

    @pytest.fixture
    def sink_world(self, chat_world: ChatWorld) -> SinkWorld:
        """The world of this sink (see conftest.py)."""
        return chat_world
