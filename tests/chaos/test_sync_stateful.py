"""Hypothesis stateful test: the gateway's sync against the Google emulator, under
random calendar changes, lost and repeated push notifications, expired sync tokens,
rate limits, server errors and gateway restarts.

Each example starts an emulator and a real gateway (HTTP app, engine, SQLite store,
local KMS) on loopback; the gateway runs in an event loop of its own thread (an anyio
blocking portal) so the state machine's rules stay synchronous. Rules change calendars
through the emulator's state methods (they behave like the API calls, push messages
included) or disturb the gateway. At the end of each example the faults are cleared,
the clock runs past every retry and the safety re-sync, and then:

* every user's stored meetings equal the emulator's retention window (7 days back, 31
  ahead): the same event ids (recurring instances expanded) with the same etags;
* every keyword event (`@meet`, Google Meet) carries the conference its one write asked
  for, and no join block;
* no job is queued, running or parked, and no notification is due undelivered.

The default test run uses a modest number of examples; ``make chaos`` selects the
``chaos`` profile (``HYBRID_CALENDAR_HYPOTHESIS_PROFILE=chaos``) for many more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    multiple,
    precondition,
    rule,
)

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify, sweeps
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar_google_emulator.api_errors import ApiError
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from tests.chaos.gateway import StoreReader
from tests.chaos.window import join_blocks, meet_conferences, window_events
from tests.engine.conftest import (
    ADMIN_TOKEN,
    DOMAIN,
    CaptureSink,
    Stack,
    free_port,
    gateway_overrides,
)

USERS = [f"{name}@{DOMAIN}" for name in ("ann", "ben", "cai")]
PROFILE = os.environ.get("HYBRID_CALENDAR_HYPOTHESIS_PROFILE", "default")
SIZES = {"default": {"max_examples": 8, "stateful_step_count": 15},
         "chaos": {"max_examples": 40, "stateful_step_count": 30}}
"""Examples and steps per run: the default test run's, and ``make chaos``'s."""

MAX_RESTARTS = 2
"""Restarts per example (each costs most of a second; other rules cost milliseconds)."""

users = st.sampled_from(USERS)
days = st.integers(-5, 27)
"""Start day of an event, relative to now: well inside the retention window."""


def timed(start: datetime, minutes: int = 30) -> dict[str, Any]:
    """``start``/``end`` of a timed event in UTC."""
    return {"start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "timeZone": "UTC"}}


def day_at(day: int, hour: int) -> datetime:
    """``day`` days from today at ``hour``:00 UTC."""
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return today.replace(hour=hour) + timedelta(days=day)


class GatewayUnderTest:
    """A real gateway on a SQLite file, restartable on the same data and port."""

    def __init__(self, emu: RunningEmulator, root: Path) -> None:
        self.emu = emu
        self.port = free_port()
        self.overrides = gateway_overrides(emu, root, self.port)
        self.overrides["join_info"] = {"keywords": ["meet=google_meet"]}
        self.clock = ManualClock()
        self.sink = CaptureSink()
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None
        self.stack: Stack | None = None
        self.admin: httpx.AsyncClient | None = None

    async def start(self) -> Stack:
        """Build the gateway from its configuration and serve it."""
        config, pm = load_config(None, overrides=self.overrides, environ={})
        pm.register(self.sink, name="capture")
        gateway = build_gateway(config, pm, clock=self.clock)
        self.server = PromptServer(uvicorn.Config(
            create_app(gateway), host="127.0.0.1", port=self.port, lifespan="on",
            log_config=None))
        task = asyncio.create_task(self.server.serve())
        self.task = task
        base = f"http://127.0.0.1:{self.port}"
        await until_answering(base + "/healthz", alive=lambda: not task.done())
        self.admin = httpx.AsyncClient(base_url=base, timeout=30, headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}"})
        previous = self.stack.user_ids if self.stack else {}
        self.stack = Stack(self.emu, gateway, self.admin, self.sink, base, dict(previous))
        return self.stack

    async def stop(self) -> None:
        """Stop serving (the engine re-queues what runs; the store closes)."""
        if self.admin is not None:
            await self.admin.aclose()
            self.admin = None
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await self.task
            self.server = self.task = None

    @property
    def gateway(self) -> Gateway:
        """The running gateway."""
        assert self.stack is not None
        return self.stack.gateway


class SyncMachine(RuleBasedStateMachine):
    """Random calendar life against one gateway; the end state must match Google."""

    events = Bundle("events")
    series = Bundle("series")

    def __init__(self) -> None:
        super().__init__()
        self.exits = contextlib.ExitStack()
        self.portal = self.exits.enter_context(anyio_portal())
        self.root = Path(self.exits.enter_context(tempfile.TemporaryDirectory()))
        self.emu = self.exits.enter_context(running_emulator(
            domain=DOMAIN, users=USERS, fresh_key=False))
        self.gut = GatewayUnderTest(self.emu, self.root)
        self.keyword_events: dict[str, set[str]] = {}
        self.serial = 0
        self.restarts = 0

    def run(self, coro_fn: Any, *args: Any) -> Any:
        """Run an async function in the gateway's event loop."""
        return self.portal.call(coro_fn, *args)

    @property
    def state(self) -> Any:
        """The emulator's state."""
        return self.emu.state

    @initialize()
    def start(self) -> None:
        stack = self.run(self.gut.start)
        self.run(stack.provision)
        self.run(activate_all, stack)

    def _title(self) -> str:
        self.serial += 1
        return f"event {self.serial}"

    # calendar changes ---------------------------------------------------------------
    @rule(target=events, owner=users, day=days, hour=st.integers(7, 18),
          invite=st.sampled_from([None, *USERS]))
    def create(self, owner: str, day: int, hour: int, invite: str | None) -> Any:
        body: dict[str, Any] = {"summary": self._title(), **timed(day_at(day, hour))}
        if invite and invite != owner:
            body["attendees"] = [{"email": owner}, {"email": invite}]
        return (owner, self.state.insert_event(owner, body)["id"])

    @rule(target=series, owner=users, day=days, hour=st.integers(7, 18),
          count=st.integers(2, 6))
    def create_series(self, owner: str, day: int, hour: int, count: int) -> Any:
        body = {"summary": self._title(), **timed(day_at(day, hour)),
                "recurrence": [f"RRULE:FREQ=DAILY;COUNT={count}"]}
        event = self.state.insert_event(owner, body)
        return (owner, event["id"], day_at(day, hour), count)

    @rule(event=events, retitle=st.booleans(), day=days)
    def edit(self, event: tuple[str, str], retitle: bool, day: int) -> None:
        owner, event_id = event
        change = {"summary": self._title()} if retitle else timed(day_at(day, 9))
        self._quietly(self.state.patch_event, owner, event_id, change)

    @rule(target=events, event=consumes(events), to=users)
    def move(self, event: tuple[str, str], to: str) -> Any:
        owner, event_id = event
        if to == owner or not self._quietly(self.state.move_event, owner, event_id, owner,
                                             to):
            return multiple(event)
        if event_id in self.keyword_events.get(owner, set()):
            self.keyword_events[owner].discard(event_id)
            self.keyword_events.setdefault(to, set()).add(event_id)
        return multiple((to, event_id))

    @rule(event=consumes(events))
    def cancel(self, event: tuple[str, str]) -> None:
        owner, event_id = event
        self._quietly(self.state.delete_event, owner, event_id)
        self.keyword_events.get(owner, set()).discard(event_id)

    @rule(event=events)
    def add_keyword(self, event: tuple[str, str]) -> None:
        owner, event_id = event
        if self._quietly(self.state.patch_event, owner, event_id, {"location": "Room @meet"}):
            self.keyword_events.setdefault(owner, set()).add(event_id)

    @rule(chosen=series, index=st.integers(0, 5), cancel=st.booleans())
    def change_instance(self, chosen: tuple[str, str, datetime, int], index: int,
                        cancel: bool) -> None:
        owner, master_id, first, count = chosen
        start = first + timedelta(days=index % count)
        instance = f"{master_id}_{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
        if cancel:
            self._quietly(self.state.delete_event, owner, instance)
        else:
            self._quietly(self.state.patch_event, owner, instance,
                          {"summary": self._title()})

    def _quietly(self, change: Any, *args: Any) -> bool:
        """A change the emulator may refuse (the event was cancelled or moved since)."""
        try:
            change(*args)
        except ApiError:
            return False
        return True

    # disturbances ----------------------------------------------------------------------
    @rule(rate=st.sampled_from([0.0, 0.5, 1.0]))
    def drop_notifications(self, rate: float) -> None:
        self.state.push.options.drop_rate = rate

    @rule(rate=st.sampled_from([0.0, 1.0]))
    def duplicate_notifications(self, rate: float) -> None:
        self.state.control({"duplicate_notifications": rate})

    @rule(owner=users)
    def expire_sync_token(self, owner: str) -> None:
        self.state.invalidate_sync_tokens(owner)

    @rule(status=st.sampled_from([429, 500, 503]), count=st.integers(1, 3))
    def fail_calls(self, status: int, count: int) -> None:
        reason = "rateLimitExceeded" if status == 429 else "backendError"
        self.state.control({"errors": [{"status": status, "reason": reason,
                                        "count": count}]})

    @rule()
    def settle(self) -> None:
        """Let the gateway work off what is due now (retries stay queued)."""
        assert self.gut.stack is not None
        self.run(self.gut.stack.idle)

    @precondition(lambda self: self.restarts < MAX_RESTARTS)
    @rule()
    def restart(self) -> None:
        """Stop the gateway and start a new one on the same data (and port)."""
        self.restarts += 1
        self.run(self.gut.stop)
        self.run(self.gut.start)

    # the end state -----------------------------------------------------------------
    def teardown(self) -> None:
        try:
            if self.gut.stack is not None:
                self.converge_and_check()
        finally:
            with contextlib.suppress(Exception):
                self.run(self.gut.stop)
            self.exits.close()

    def converge_and_check(self) -> None:
        self.state.control({"clear_errors": True, "duplicate_notifications": 0.0})
        self.state.push.options.drop_rate = 0.0
        stack = self.gut.stack
        assert stack is not None
        self.run(stack.idle)
        self.run(stack.run_retries)
        # notifications lost in the example: the safety re-sync finds their changes
        self.gut.clock.advance(timedelta(minutes=61))
        self.run(sweeps.resync_quiet_users, stack.gateway)
        self.run(stack.idle)
        self.run(stack.run_retries)
        self.run(notify.deliver_due, stack.gateway)
        store = StoreReader(Path(self.gut.overrides["gateway"]["data_dir"])
                            / "gateway.sqlite3")
        now = self.gut.clock.now()
        start, end = now - timedelta(days=7), now + timedelta(days=31)
        by_user = {user_id: email for email, user_id in stack.user_ids.items()}
        stored: dict[str, dict[str, str]] = {email: {} for email in USERS}
        for (user_id, event_id), (etag, _s, _e) in store.meetings().items():
            stored[by_user[user_id]][event_id] = etag
        for email in USERS:
            assert stored[email] == window_events(self.state, email, start, end), email
        for email, event_ids in self.keyword_events.items():
            blocks = join_blocks(self.state, email)
            conferences = meet_conferences(self.state, email)
            for event_id in event_ids:
                # a Meet keyword is one write: the conference (counted by join_blocks as
                # the event's join details), and no join block in the description
                if event_id in blocks:  # not cancelled or moved away since
                    assert blocks[event_id] == 1, (email, event_id, blocks[event_id])
                    assert conferences[event_id], (email, event_id)
        work = store.outstanding(now.timestamp())
        assert work == {"queued": 0, "running": 0, "parked": 0, "buttons_due": 0}, work
        pending = store.query("SELECT count(*) FROM scheduled_notifications WHERE "
                              "state = 'pending' AND next_attempt_at <= ?",
                              (now.timestamp(),))[0][0]
        assert pending == 0


async def activate_all(stack: Stack) -> None:
    """Activate every user at once, then wait until the gateway is idle."""
    for email in USERS:
        answer = await stack.admin.post("/api/v1/organisations/org1/users",
                                        json={"email": email})
        assert answer.status_code == 202, answer.text
        stack.user_ids[email] = answer.json()["id"]
    await stack.idle()


@contextlib.contextmanager
def anyio_portal() -> Any:
    """An event loop in a thread of its own, for the gateway."""
    from anyio.from_thread import start_blocking_portal

    with start_blocking_portal() as portal:
        yield portal


SyncMachine.TestCase.settings = settings(
    settings.default, **SIZES[PROFILE], deadline=None,  # type: ignore[arg-type]
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
"""On top of the loaded profile (derandomized under CI's ``HYPOTHESIS_PROFILE=ci``)."""
test_sync_converges_to_the_emulators_window = SyncMachine.TestCase
