"""The chaos harness's own checks see what they are there to see (``make chaos`` is only
as good as them): a card sent twice is a duplicate, the quota meter's minute peak, and a
summary line that says failure with non-zero counts."""

from __future__ import annotations

import httpx

from hybrid_calendar_webex_emulator.testing import running_webex_emulator
from tests.chaos.checks import Tally
from tests.chaos.emulators import peak_per_minute, webex_duplicates

CARD = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {
    "type": "AdaptiveCard", "version": "1.3",
    "body": [{"type": "TextBlock", "id": "hc-key-0123", "text": "Review"}]}}


def test_a_join_card_sent_twice_for_one_key_is_a_duplicate() -> None:
    with running_webex_emulator("example.com", ["ann@example.com"]) as emu:
        _, bot = emu.state.create_bot("Chaos", "chaos")
        message = {"toPersonEmail": "ann@example.com", "markdown": "Join",
                   "attachments": [CARD]}
        with httpx.Client(base_url=emu.api_base,
                          headers={"Authorization": f"Bearer {bot}"}) as client:
            assert client.post("/messages", json=message).status_code == 200
            assert webex_duplicates(emu.state)["duplicate_cards"] == 0
            assert client.post("/messages", json=message).status_code == 200
        assert webex_duplicates(emu.state) == {"cards": 2, "duplicate_cards": 1,
                                               "meetings": 0, "duplicate_meetings": 0}


def test_peak_per_minute_is_the_fullest_sliding_minute() -> None:
    charges = [(0.0, 3), (30.0, 3), (59.0, 1), (60.0, 3), (61.0, 1), (200.0, 2)]
    assert peak_per_minute(charges) == 8  # 30..61 s; the charge at 0 s has left the window
    assert peak_per_minute([]) == 0


def test_the_summary_line_counts_failures() -> None:
    tally = Tally(kill_runs=100, faults_survived=13)
    assert not tally.failed
    assert tally.last_line() == ("chaos: 100 kill-9 runs, 0 lost, 0 duplicate writes, "
                                 "0 integrity failures; 13 faults survived")
    tally.lost = 2
    assert tally.failed and ", 2 lost," in tally.last_line()
    assert Tally(faults_failed=["latency 400 ms"]).failed
