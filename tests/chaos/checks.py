"""The checks of a chaos run, and the tally the runner prints.

After every SIGKILL (:func:`after_kill`): the database passes ``PRAGMA integrity_check``
and every row committed before the kill is still there (a meeting may only be missing
when Google no longer has it in the window; a Join button marked delivered stays so).
After the restart (:func:`converge`): once no work is outstanding, each user's stored
meetings equal the emulator's retention window (same event ids, same etags), every
keyword event holds exactly one join block, and Webex holds no Join card sent twice for
one key and no meeting made twice for one event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.chaos.gateway import ServeProcess, StoreReader
from tests.chaos.remote import Emulators

RETENTION = (timedelta(days=7), timedelta(days=31))
"""The gateway's default retention window: 7 days back, 31 ahead."""


@dataclass
class Tally:
    """What the runner prints on its last line, with the reasons behind each count."""

    kill_runs: int = 0
    lost: int = 0
    duplicates: int = 0
    integrity_failures: int = 0
    faults_survived: int = 0
    faults_failed: list[str] = field(default_factory=list)
    kills_mid_work: int = 0
    webex_duplicates_seen: int = 0
    """Webex duplicates already counted (the emulator's figures are cumulative)."""
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Remember (and print) why a count went up."""
        self.notes.append(text)
        print(f"  ! {text}", flush=True)

    @property
    def failed(self) -> bool:
        """Whether anything went wrong."""
        return bool(self.lost or self.duplicates or self.integrity_failures
                    or self.faults_failed)

    def last_line(self) -> str:
        """The summary line (``make chaos`` ends with it)."""
        return (f"chaos: {self.kill_runs} kill-9 runs, {self.lost} lost, {self.duplicates} "
                f"duplicate writes, {self.integrity_failures} integrity failures; "
                f"{self.faults_survived} faults survived")


@dataclass
class Committed:
    """Rows committed before a kill."""

    meetings: dict[tuple[str, str], tuple[str, float, float]]
    buttons: set[str]

    @classmethod
    def read(cls, store: StoreReader) -> Committed:
        """Read them now (the gateway may still be running)."""
        return cls(store.meetings(), store.delivered_buttons())


def after_kill(store: StoreReader, before: Committed, emulators: Emulators,
               emails: dict[str, str], tally: Tally, label: str) -> None:
    """Integrity and no committed row lost, on the file the killed process left."""
    verdict = store.integrity()
    if verdict != "ok":
        tally.integrity_failures += 1
        tally.note(f"{label}: integrity_check: {verdict}")
        return
    now_meetings = store.meetings()
    missing = [key for key in before.meetings if key not in now_meetings]
    if missing:
        live = window_now(emulators, emails)
        lost = [key for key in missing if key[1] in live.get(key[0], {})]
        if lost:
            tally.lost += len(lost)
            tally.note(f"{label}: {len(lost)} committed meeting(s) gone after the kill")
    gone = before.buttons - store.delivered_buttons()
    if gone:
        tally.lost += len(gone)
        tally.note(f"{label}: {len(gone)} delivered Join button(s) no longer delivered")


def window_now(emulators: Emulators, emails: dict[str, str]) -> dict[str, dict[str, str]]:
    """User id to the emulator's retention window of that user (event id to etag)."""
    now = datetime.now(UTC)
    start, end = now - RETENTION[0], now + RETENTION[1]
    return {user_id: emulators.window(email, start, end) for user_id, email in emails.items()}


def differences(store: StoreReader, emulators: Emulators, emails: dict[str, str]
                ) -> dict[str, Any]:
    """Per user: events missing from the store, extra in it, or with another etag."""
    stored: dict[str, dict[str, str]] = {user_id: {} for user_id in emails}
    for (user_id, event_id), (etag, _start, _end) in store.meetings().items():
        stored.setdefault(user_id, {})[event_id] = etag
    result: dict[str, Any] = {}
    for user_id, expected in window_now(emulators, emails).items():
        have = stored.get(user_id, {})
        missing = sorted(set(expected) - set(have))
        extra = sorted(set(have) - set(expected))
        stale = sorted(e for e in set(expected) & set(have) if expected[e] != have[e])
        if missing or extra or stale:
            result[emails[user_id]] = {"missing": missing, "extra": extra, "stale": stale}
    return result


def settled(store: StoreReader) -> bool:
    """No job queued or running, no Join button due and undelivered."""
    work = store.outstanding(time.time())
    return work["queued"] + work["running"] + work["buttons_due"] == 0


def converge(serve: ServeProcess, store: StoreReader, emulators: Emulators,
             emails: dict[str, str], keyword_events: dict[str, set[str]], tally: Tally,
             label: str, within: float = 60.0) -> bool:
    """Wait until the store equals the emulator's window with nothing outstanding, then
    check join blocks and Webex duplicates; count what is wrong. True when converged."""
    deadline = time.monotonic() + within
    diff: dict[str, Any] = {}
    slow_at = time.monotonic() + 10
    while time.monotonic() < deadline:
        if time.monotonic() > slow_at:
            slow_at += 10
            print(f"  {label}: still converging: outstanding "
                  f"{store.outstanding(time.time())}, {str(diff)[:300]}", flush=True)
        if not serve.alive():
            tally.note(f"{label}: serve exited:\n{serve.tail()}")
            break
        if settled(store):
            diff = differences(store, emulators, emails)
            if not diff:
                break
        time.sleep(0.1)
    else:
        diff = diff or differences(store, emulators, emails)
    converged = not diff and serve.alive()
    if diff:
        count = sum(len(d["missing"]) + len(d["stale"]) for d in diff.values())
        extra = sum(len(d["extra"]) for d in diff.values())
        tally.lost += count + extra
        tally.note(f"{label}: not converged within {within:.0f} s: {count} missing or stale, "
                   f"{extra} extra, outstanding {store.outstanding(time.time())}: "
                   f"{str(diff)[:400]}")
    parked = store.outstanding(time.time())["parked"]
    if parked:
        tally.lost += parked
        tally.note(f"{label}: {parked} parked job(s)")
    for email, event_ids in keyword_events.items():
        blocks = emulators.join_blocks(email)
        for event_id in event_ids:
            block_count = blocks.get(event_id)
            if block_count is None:
                continue  # cancelled since
            if block_count > 1:
                tally.duplicates += block_count - 1
                tally.note(f"{label}: {block_count} join blocks in keyword event {event_id}")
            elif block_count == 0 and converged:
                tally.lost += 1
                tally.note(f"{label}: no join block in keyword event {event_id}")
    webex = emulators.webex_duplicates()
    new_dupes = webex["duplicate_cards"] + webex["duplicate_meetings"]
    if new_dupes > tally.webex_duplicates_seen:
        tally.duplicates += new_dupes - tally.webex_duplicates_seen
        tally.webex_duplicates_seen = new_dupes
        tally.note(f"{label}: Webex duplicates {webex}")
    return converged
