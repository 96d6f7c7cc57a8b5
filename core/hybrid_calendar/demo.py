"""``hybrid-calendar demo``: the whole gateway on embedded defaults, against the emulators.

The demo knows no provider. It enables, next to the configured plugins, the built-in
``<name>_emulator`` plugin of each (``google`` → ``google_emulator``), and lets every
plugin contribute its part through the ``prepare_demo`` hook: the Google emulator plugin
starts the emulator with the demo's three users and plays the calendar role, the Webex
emulator plugin does the same for the ``webex`` sink and plays the meeting-service role
(:mod:`hybrid_calendar.demo_roles`). The demo then runs the real gateway (HTTP app +
engine, SQLite and the local key file in the demo's data directory) on loopback, on a
clock that skips ahead when the walkthrough needs a meeting to start
(:mod:`hybrid_calendar.demo_clock`), and walks through the mission
(:mod:`hybrid_calendar.demo_mission`), printing each step and its checks as they happen.

Afterwards it keeps serving and prints the admin page's address and each user's page with
a one-time sign-in link and a personal token; ``--once`` instead prints a summary line
per step and exits 0 only if every step passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hybrid_calendar import logs
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.demo_clock import JumpingClock
from hybrid_calendar.demo_mission import Mission
from hybrid_calendar.demo_people import sign_in_link
from hybrid_calendar.demo_setup import DemoPart, DemoSetup, merge_parts
from hybrid_calendar.demo_steps import Walkthrough
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.listening import ServerNotAnsweringError, until_answering
from hybrid_calendar.loading import ENABLED_VARIABLE, load_config
from hybrid_calendar.plugins import BUILTIN_PLUGINS
from hybrid_calendar.prompt_server import PromptServer

DOMAIN = "demo.example"
USERS = (f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}")
MARKER = ".hybrid-calendar-demo"
"""The file that marks a directory as the demo's own (each run starts it afresh)."""
CHECK_SECONDS = 15.0
"""How long a check may take to hold (the gateway works in the background)."""


def demo_plugins(enabled: Sequence[str]) -> list[str]:
    """``enabled`` plus the built-in ``<name>_emulator`` plugin of each enabled ``<name>``."""
    emulators = [f"{name}_emulator" for name in enabled
                 if f"{name}_emulator" in BUILTIN_PLUGINS and f"{name}_emulator" not in enabled]
    return [*enabled, *emulators]


def prepare_parts(setup: DemoSetup) -> list[DemoPart]:
    """Let the configured plugins and their emulators start their parts (``prepare_demo``)."""
    enabled = demo_plugins(load_config(None)[0].get("plugins", "enabled"))
    # the environment wins over overrides: enable the emulators there too
    environ = {**os.environ, ENABLED_VARIABLE: ",".join(enabled)}
    _, pm = load_config(None, overrides={"plugins": {"enabled": enabled}}, environ=environ)
    return Hooks(pm).prepare_demo(setup)


def fresh_data_dir(path: Path) -> None:
    """Empty the demo's directory of a previous run (mode 0700), marking it as the demo's.

    :raises ConfigError: ``path`` holds files and is not a demo directory.
    """
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise ConfigError("demo --data-dir", f"{path} is not empty and is not a demo "
                                             "directory: choose another one")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    (path / MARKER).write_text("hybrid-calendar demo data; emptied at every demo start\n")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _demo(data_dir: Path, port: int, seconds: float, once: bool) -> int:
    with contextlib.ExitStack() as cleanup:
        clock = JumpingClock()
        parts = prepare_parts(DemoSetup(domain=DOMAIN, users=USERS, data_dir=data_dir,
                                        now=clock.now(), cleanup=cleanup, clock=clock))
        calendar = next((p.calendar for p in parts if p.calendar is not None), None)
        service = next((p.meeting_service for p in parts if p.meeting_service is not None),
                       None)
        if calendar is None or service is None:
            print("error: the demo needs a calendar emulator and a meeting-service emulator "
                  "(enable google and webex in plugins.enabled)", file=sys.stderr)
            return 2
        admin_token = secrets.token_urlsafe(24)
        base = f"http://127.0.0.1:{port}"
        overrides = merge_parts({
            "gateway": {"port": port, "public_url": base, "data_dir": str(data_dir),
                        "admin_token": admin_token, "synchronous": "NORMAL"},
            "sync": {"sweep_seconds": 1.0},
        }, parts)
        config, pm = load_config(None, overrides=overrides)
        gateway = build_gateway(config, pm, clock=clock)
        server = PromptServer(uvicorn.Config(
            create_app(gateway), host="127.0.0.1", port=port, lifespan="on",
            log_config=None, access_log=False, timeout_graceful_shutdown=5))
        task = asyncio.create_task(server.serve())
        try:
            await until_answering(base + "/healthz", within=60, alive=lambda: not task.done())
        except ServerNotAnsweringError as err:
            print(f"error: the gateway did not start: {err}", file=sys.stderr)
            return 1
        walk = Walkthrough(within=CHECK_SECONDS)
        notes = [note for part in parts for note in part.notes]
        walk.say(f"Gateway on {base}; " + "; ".join([*notes, f"data in {data_dir}"]))
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30, headers={
                    "Authorization": f"Bearer {admin_token}"}) as admin:
                mission = Mission(walk, clock, calendar, service, admin, base, config,
                                  DOMAIN, USERS)
                await mission.run()
                await _print_meetings(walk, admin, mission.ids)
                for part in parts:
                    if part.report is not None:
                        walk.say("\n" + "\n".join(part.report()))
                if once:
                    walk.say("\nSummary (checked against the emulators' recorded state):")
                    for line in walk.summary():
                        walk.say(line)
                    return 0 if walk.all_passed else 1
                await _print_addresses(walk, admin, base, admin_token, mission)
            if seconds > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
            else:
                await task
        finally:
            server.should_exit = True
            await task
    return 0


async def _print_meetings(walk: Walkthrough, admin: httpx.AsyncClient, ids: dict[str, str]
                          ) -> None:
    walk.say("\nEach user's meetings: start, title, service, join link, address video "
             "devices dial")
    for email, user_id in ids.items():
        listed = (await admin.get(f"/api/v1/users/{user_id}/meetings")).json()
        away = " (out of office)" if listed.get("out_of_office") else ""
        walk.say(f"\n{email}{away}: {len(listed['meetings'])} meeting(s)")
        for meeting in listed["meetings"]:
            walk.say(meeting_line(meeting))


async def _print_addresses(walk: Walkthrough, admin: httpx.AsyncClient, base: str,
                           admin_token: str, mission: Mission) -> None:
    walk.say(f"\nThe demo keeps serving (Ctrl-C stops it). Admin page: {base}/admin "
             f"(admin token, shown in this terminal only: {admin_token})")
    for email, person in mission.people.items():
        link = await sign_in_link(admin, mission.ids[email])
        walk.say(f"\n{email}'s page: {base}/me")
        walk.say(f"  sign in once with {link}")
        walk.say(f"  personal token (API, stream, devices): {person.token}")
        walk.say(f"  calendar feed: {base}/api/v1/me/calendar.ics?token={person.token}")
    walk.say(f"\nThe demo clock runs {mission.clock.ahead.total_seconds() / 60:.0f} min "
             "ahead of the wall clock (it skipped to each meeting's start).")


def meeting_line(meeting: dict[str, Any]) -> str:
    """One meeting of a user's meetings list: start, title, service, join link and the
    address video devices dial (a keyword the meeting service refused shows its note)."""
    join = meeting["join"] or {}
    link = (join.get("extra") or {}).get("note") if join.get("source") == "refused" \
        else join.get("url")
    return (f"  {meeting['start'][:16]}  {meeting['title']:<18} "
            f"{join.get('provider') or '-':<8} {link or ''} {join.get('dial') or ''}").rstrip()


def run_demo(data_dir: Path | None, *, port: int | None = None, seconds: float = 0,
             once: bool = False) -> int:
    """Run the demo until Ctrl-C (or for ``seconds``); with ``once``, walk through it,
    print the summary and return 0 only if every step passed.

    ``data_dir`` defaults to a temporary directory with ``once``, else to
    ``$HYBRID_CALENDAR_DEMO_DIR`` or ``demo-data``; ``port`` to a free port with
    ``once``, else 8080.
    """
    logs.install(os.environ.get("HYBRID_CALENDAR_GATEWAY__LOG_LEVEL", "WARNING"))
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = (Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="hybrid-calendar-demo-"))) if once
                else Path(os.environ.get("HYBRID_CALENDAR_DEMO_DIR", "demo-data")))
        fresh_data_dir(data_dir)
        try:
            return asyncio.run(_demo(data_dir, port or (free_port() if once else 8080),
                                     seconds, once))
        except KeyboardInterrupt:
            return 0
