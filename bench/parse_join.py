"""Join-link detection throughput on one core, next to baselines measured in the same run.

Builds a realistic mix of Google Calendar event resources (Google Meet conference data,
Zoom, Teams, Webex and GoTo invitations in plain text and HTML, links wrapped by
SafeLinks and Google's redirector, and events with no join information at all), then
times, alternating rounds, best of ``--rounds``:

* **detect** — ``detect(event)`` on already converted ``CalendarEvent`` objects (what the
  engine does per stored event);
* **ranked** — ``best_join_info(find_candidates(event))``: every candidate, as the
  ``parse_join_info`` hook registers them, then ranked (the engine's path when another
  plugin implements the hook too);
* **pipeline** — what ``parse-join --jsonl`` does per line: ``json.loads``, conversion to
  ``CalendarEvent``, ``detect`` and ``json.dumps`` of the result;
* **stored** — the whole path from the provider's JSON to the stored result: each
  user's ``events.list`` page (50 events, as JSON text) goes through the real
  ``sync_user`` of a gateway whose ``fetch_changes`` hands it that page (decoded with
  orjson as the provider's responses are, converted by the Google plugin's
  ``event_from_google``, no HTTP): keyword check, join detection (the engine's
  ``best_join``), encryption, and one SQLite transaction per page
  (``synchronous=FULL``, ``Store.write_sync``) holding the meetings, their Join buttons
  and the meetings-changed notification. Its rate is events per CPU-second of this
  process (all threads: one core's worth of work), wall-clock next to it, and the CPU
  per event of the event loop's thread alone (conversion, detection, building the
  rows; the store's worker thread seals and writes them);
* **baseline json** — ``json.loads`` of the same lines;
* **baseline regex** — a naive single regex scan (``https?://\\S+``) over Location and
  description of the same events.

Every mode is timed in CPU seconds of this process (a shared machine's waits do not
count). Prints events/s for each and the ratios. Issue 14's target, ≥ 20,000 events/s
"from the provider's JSON to the stored result", is the ``pipeline``'s: its "≈ 18,900/s
today" was measured by that mode. ``stored`` adds encryption and the SQLite write and
is reported as the project's own, stricter figure, with no target.

    .venv/bin/python bench/parse_join.py [--events 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from hybrid_calendar import hookimpl
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine.sync import sync_user
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.join_info.detect import best_join_info, detect, find_candidates
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import ChangeBatch, Organisation, User, UserState
from hybrid_calendar_google.event_json import event_from_google
from hybrid_calendar_google.parse_join import join_to_json

PAGE = 50
"""Events per user and ``events.list`` page in the stored mode."""

AGENDA = ("Agenda:\n1. Status of the migration\n2. Budget for Q3\n3. Hiring plan\n\n"
          "Notes from last time are in the shared folder. Please review the design doc "
          "before the meeting and add comments.\n")
ZOOM = ("Jane Doe is inviting you to a scheduled Zoom meeting.\n\nJoin Zoom Meeting\n"
        "https://us02web.zoom.us/j/8551234{n:04d}?pwd=ZXhhbXBsZVBhc3N3b3Jk.1\n\n"
        "Meeting ID: 855 1234 {n:04d}\nPasscode: 482913\n\n---\n\nOne tap mobile\n"
        "+16469313860,,8551234{n:04d}#,,,,*482913# US\n\nJoin by SIP\n"
        "• 8551234{n:04d}@zoomcrc.com\n\nJoin by H.323\n• 144.195.19.161 (US West)\n")
TEAMS = ("_" * 80 + "\nMicrosoft Teams meeting\nJoin on your computer, mobile app or room "
         "device\nClick here to join the meeting<https://teams.microsoft.com/l/meetup-join/"
         "19%3ameeting_NjQ3ZmE5OTMtYjk4Ni00ZGI4LWE2NjQtYzE0ZGEz{n:04d}%40thread.v2/0?context="
         "%7b%22Tid%22%3a%2272f988bf%22%2c%22Oid%22%3a%22d8c9f5e4%22%7d>\nMeeting ID: 245 896 "
         "123 456\nPasscode: x7KmQp\nDownload Teams<https://www.microsoft.com/en-us/microsoft-"
         "teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-"
         "a-meeting>\nJoin with a video conferencing device\nacme@m.webex.com\nVideo ID: 113 922"
         " {n:04d}\nLearn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://"
         "teams.microsoft.com/meetingOptions/?organizerId=d8c9>\n" + "_" * 80 + "\n")
WEBEX = ("Jane Doe is inviting you to a scheduled Webex meeting.\n\nMeeting number (access "
         "code): 2634 123 {n:04d}\nMeeting password: Ab12Cd34\n\nJoin meeting https://acme."
         "webex.com/acme/j.php?MTID=m1234567890abcdef1234567890ab{n:04d}\n\nJoin by phone\n"
         "+1-415-655-0001 US Toll\n\nJoin from a video system or application\nDial 2634123{n:04d}"
         "@acme.webex.com\n\nNeed help? Go to https://help.webex.com\n")
GOTO = ("Please join my meeting from your computer, tablet or smartphone.\nhttps://meet.goto."
        "com/12345{n:04d}\n\nAccess Code: 123-45{n:04d}\nOr dial directly: 12345{n:04d}"
        "@67.217.95.2\n")


def _html(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<div>" + re.sub(r"(https://\S+)", lambda m: (
        f'<a href="https://www.google.com/url?q={quote(m.group(1), safe="")}&amp;sa=D&amp;'
        f'source=calendar">{m.group(1)}</a>'), text).replace("\n", "<br>") + "</div>"


def make_events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """A deterministic realistic mix of event resources."""
    rng = random.Random(seed)
    events = []
    for n in range(count):
        kind = rng.random()
        event: dict[str, Any] = {
            "kind": "calendar#event", "id": f"evt{n:06d}", "status": "confirmed",
            "summary": f"Meeting {n}", "etag": f"\"{3187221858184000 + n}\"",
            "start": {"dateTime": "2026-03-03T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-03T11:00:00+01:00", "timeZone": "Europe/Berlin"},
            "organizer": {"email": "alice@example.com"},
            "attendees": [{"email": f"user{i}@example.com", "responseStatus": "accepted"}
                          for i in range(rng.randint(1, 8))]}
        number = n % 10_000
        if kind < 0.30:
            code = "abc-defg-hij"
            event["hangoutLink"] = f"https://meet.google.com/{code}"
            event["conferenceData"] = {"entryPoints": [
                {"entryPointType": "video", "uri": f"https://meet.google.com/{code}"},
                {"entryPointType": "phone", "uri": "tel:+49-40-8081617300", "pin": "657955248"}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": code}
            event["description"] = AGENDA
        elif kind < 0.50:
            event["description"] = ZOOM.format(n=number)
            event["location"] = f"https://us02web.zoom.us/j/8551234{number:04d}"
        elif kind < 0.62:
            event["description"] = TEAMS.format(n=number)
            event["location"] = "Microsoft Teams Meeting"
        elif kind < 0.72:
            event["description"] = _html(WEBEX.format(n=number))
        elif kind < 0.77:
            event["description"] = GOTO.format(n=number)
        elif kind < 0.80:
            event["description"] = (AGENDA + "Join: https://nam12.safelinks.protection.outlook."
                                    "com/?url=" + quote(f"https://acme.zoom.us/j/9{n:010d}",
                                                        safe="") + "&data=05%7C01&reserved=0")
        else:
            event["description"] = AGENDA if kind < 0.95 else ""
            event["location"] = "Room 4.01, Building B" if kind < 0.9 else ""
        events.append(event)
    return events


_NAIVE = re.compile(r"https?://\S+")


class PageProvider:
    """A provider plugin whose ``fetch_changes`` hands ``sync_user`` the user's prepared
    ``events.list`` page: decoded and converted as the Google plugin does, without HTTP."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages

    @hookimpl(tryfirst=True)
    def fetch_changes(self, gateway: Gateway, user: User, cursor: str | None) -> ChangeBatch:
        # decoded as the provider's HTTP responses are (orjson, outbound/transport.py)
        page = orjson.loads(self.pages[user.email])
        return ChangeBatch(events=tuple(event_from_google(item, user.email)
                                        for item in page["items"]),
                           next_cursor=page["nextSyncToken"], full_sync=True)


def stored_pages(resources: list[dict[str, Any]], rounds: int
                 ) -> tuple[list[list[str]], dict[str, str]]:
    """Per round, the users' addresses; per address, one page of :data:`PAGE` events moved
    into the retention window (fresh users each round, so every round inserts)."""
    now = datetime.now(UTC).replace(microsecond=0)
    moved = []
    for n, resource in enumerate(resources):
        start = now + timedelta(days=n % 30 - 3, hours=n % 9)
        moved.append({**resource,
                      "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
                      "end": {"dateTime": (start + timedelta(hours=1)).isoformat(),
                              "timeZone": "Europe/Berlin"}})
    per_round, pages = [], {}
    for round_no in range(rounds):
        emails = []
        for first in range(0, len(moved) - PAGE + 1, PAGE):
            email = f"r{round_no}u{first // PAGE:05d}@example.com"
            emails.append(email)
            pages[email] = json.dumps({"kind": "calendar#events",
                                       "items": moved[first:first + PAGE],
                                       "nextSyncToken": f"token-{email}"})
        per_round.append(emails)
    return per_round, pages


async def run_stored(resources: list[dict[str, Any]], rounds: int
                     ) -> tuple[float, float, float, int]:
    """Best (CPU seconds of the process, wall seconds, CPU seconds of the event loop's
    thread) of ``rounds`` rounds of the stored path, and the events one round stores."""
    per_round, pages = stored_pages(resources, rounds)
    with tempfile.TemporaryDirectory() as data_dir:
        config, pm = load_config(overrides={
            "plugins": {"enabled": ["join_info", "kms_local"], "load_entrypoints": False},
            "gateway": {"data_dir": data_dir}}, environ={})
        pm.register(PageProvider(pages), name="bench_pages")
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        try:
            await gateway.store.put_organisation(Organisation(id="org", name="Bench",
                                                              domain="example.com"))
            users = [[User(id=email.split("@")[0], org_id="org", email=email,
                           state=UserState.ACTIVE) for email in emails]
                     for emails in per_round]
            for user in (u for group in users for u in group):
                await gateway.store.put_user(user)
                await gateway.cipher.sealer("org", user.id)  # keys exist: per-event cost only
            cpu_best = wall_best = loop_best = float("inf")
            for group in users:
                cpu, wall, loop = time.process_time(), time.perf_counter(), time.thread_time()
                for user in group:
                    context = await gateway.store.get_user_context(user.id)
                    assert context is not None
                    await sync_user(gateway, context)
                cpu_best = min(cpu_best, time.process_time() - cpu)
                wall_best = min(wall_best, time.perf_counter() - wall)
                loop_best = min(loop_best, time.thread_time() - loop)
            stored = await gateway.store.call(lambda db: db.execute(
                "SELECT count(*) FROM meetings").fetchone()[0])
        finally:
            await gateway.aclose()
            await gateway.store.close()
    return cpu_best, wall_best, loop_best, int(stored) // rounds


def _best(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()  # CPU time: a shared machine's waits do not count
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    """Run the benchmark and print one results line per mode plus the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    resources = make_events(args.events)
    lines = [json.dumps(r) for r in resources]
    events = [event_from_google(r) for r in resources]
    found = sum(detect(e) is not None for e in events)

    def run_detect() -> None:
        for event in events:
            detect(event)

    def run_ranked() -> None:
        for event in events:
            best_join_info(find_candidates(event))

    def run_pipeline() -> None:
        for line in lines:
            json.dumps(join_to_json(detect(event_from_google(json.loads(line)))))

    def run_json() -> None:
        for line in lines:
            json.loads(line)

    def run_regex() -> None:
        for event in events:
            _NAIVE.findall(event.location)
            _NAIVE.findall(event.description)

    modes = {"detect": run_detect, "ranked": run_ranked, "pipeline": run_pipeline,
             "json": run_json, "regex": run_regex}
    times = dict.fromkeys(modes, float("inf"))
    for _ in range(args.rounds):  # alternate modes so machine load hits all alike
        for name, fn in modes.items():
            times[name] = min(times[name], _best(fn, 1))
    stored_cpu, stored_wall, stored_loop, stored = asyncio.run(run_stored(resources, args.rounds))
    rate = {name: args.events / seconds for name, seconds in times.items()}
    stored_rate = stored / stored_cpu
    print(f"parse_join: {args.events} events ({found} with join info), best of {args.rounds}, "
          "one core")
    for name in modes:
        print(f"  {name:<9} {rate[name]:>12,.0f} events/s")
    print(f"  stored    {stored_rate:>12,.0f} events per CPU-second "
          f"({stored / stored_wall:,.0f} events/s wall-clock; {stored} events stored per round; "
          f"event loop's thread {stored_loop / stored * 1e6:.1f} µs CPU/event, the rest in the "
          "store's worker thread)")
    # the "≈ 18,900/s today" is the pipeline's figure (JSON to the result's JSON);
    # the stored path (the same plus encryption and the SQLite write) is reported next
    # to it as the project's own, stricter figure, with no target of its own
    print(f"parse_join results: pipeline {rate['pipeline']:,.0f} events/s "
          f"(target >= 20,000: {'ok' if rate['pipeline'] >= 20_000 else 'MISSED'}); "
          f"stored path {stored_rate:,.0f} events per CPU-second (no target); "
          f"detect {rate['detect']:,.0f} events/s; "
          f"detect/json.loads time ratio {times['detect'] / times['json']:.2f}; "
          f"detect/naive-regex time ratio {times['detect'] / times['regex']:.2f}; "
          f"ranked {rate['ranked']:,.0f} events/s; "
          f"pipeline/json.loads time ratio {times['pipeline'] / times['json']:.2f}")


if __name__ == "__main__":
    main()
