"""The demo's walkthrough: the gateway's whole mission, step by step, checked at the source.

1. The organisation is provisioned and its users activated: the calendar service holds a
   change-notification channel on each user's calendar.
2. An invitation with the meeting service's schedule keyword (``@webex:onetime``) in its
   Location, sent by an organiser whose calendar speaks German: the meeting service
   records a meeting, and the invite carries its link in German.
3. The personal-room keyword (``@webex``) from an English-speaking organiser: the invite
   carries the organiser's personal room, in English.
4. The space keyword (``@meet``): the meeting service records a space with the organiser
   and the invitee as members, and the invite carries its link.
5. The invitee's meetings list (personal API), page and calendar feed show the meeting of
   step 2 with the link the meeting service recorded.
6. At the meeting's start (the clock jumps there): each invitee's app received a Join
   button with that link, the invited room's device holds the booking, and the invitee's
   event stream delivered the Join button.
7. A meeting with a Zoom link in its body (no keyword) gets Join buttons the same way.
8. A vacation responder is turned on: the meeting service shows the user out of office.

Every check reads what the emulators recorded (:mod:`hybrid_calendar.demo_roles`) or what a
user's own client sees; none takes the gateway's word for what it did.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import httpx

from hybrid_calendar import demo_checks as checks
from hybrid_calendar.config import Config
from hybrid_calendar.demo_clock import JumpingClock
from hybrid_calendar.demo_people import Person, issue_person
from hybrid_calendar.demo_roles import DemoCalendar, DemoMeetingService, Invite
from hybrid_calendar.demo_steps import Outcome, Walkthrough, failed, passed

T = TypeVar("T")

ZOOM_LINK = "https://us02web.zoom.us/j/81234567890?pwd=abc"
"""The Zoom link in the body of step 7's invitation."""


def minute(when: datetime) -> datetime:
    """``when`` with seconds dropped (calendar clients schedule on the minute)."""
    return when.replace(second=0, microsecond=0)


@dataclass
class Mission:
    """Everything the walkthrough drives: the emulators' roles, the gateway, the clock."""

    walk: Walkthrough
    clock: JumpingClock
    calendar: DemoCalendar
    service: DemoMeetingService
    admin: httpx.AsyncClient
    base: str
    config: Config
    domain: str
    users: tuple[str, ...]
    ids: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def lead(self) -> timedelta:
        """How long before a meeting's start its Join button is due."""
        return timedelta(minutes=float(self.config.get("notifications",
                                                       "join_button_lead_minutes")))

    async def run(self) -> None:
        """Walk through every step in order (a failed step does not stop the rest)."""
        await self.guarded(self.provision)
        angebot = await self.guarded(self.scheduled_meeting)
        await self.guarded(self.personal_room)
        await self.guarded(self.space)
        if angebot is not None:
            await self.guarded(partial(self.invitee_views, angebot))
            await self.guarded(partial(self.join_buttons_at_start, angebot))
        await self.guarded(self.detected_link)
        await self.guarded(self.vacation)

    async def guarded(self, step: Callable[[], Awaitable[T]]) -> T | None:
        """Run a step; an error it raises fails it (with the error) instead of the demo."""
        before = len(self.walk.steps)
        try:
            return await step()
        except Exception as err:
            if len(self.walk.steps) == before:  # it stopped before announcing itself
                function = getattr(step, "func", step)  # a functools.partial's function
                doc = (function.__doc__ or "a step").strip().splitlines()[0]
                self.walk.step(doc)
            self.walk.record(failed(f"the step stopped: {type(err).__name__}: {err}"))
            return None

    # steps --------------------------------------------------------------------------
    async def provision(self) -> None:
        """Step 1: organisation, users, and the calendar watched for each."""
        alice = self.users[0]
        self.walk.step("The administrator provisions the organisation and activates "
                       f"{len(self.users)} users")
        self.calendar.set_locale(alice, "de")
        self.walk.note(f"{alice}'s {self.calendar.name} speaks German (locale de)")
        (await self.admin.post("/api/v1/organisations", json={
            "id": "demo", "name": "Demo Org", "domain": self.domain})).raise_for_status()
        for email in self.users:
            response = await self.admin.post("/api/v1/organisations/demo/users",
                                              json={"email": email})
            response.raise_for_status()
            self.ids[email] = str(response.json()["id"])
        self.walk.note("POST /api/v1/organisations, then /api/v1/organisations/demo/users "
                       "for " + ", ".join(self.users))
        for email in self.users:
            await self.walk.check(partial(checks.watched, self.calendar, email))
        for email in self.users:
            self.people[email] = await issue_person(self.admin, self.base, email,
                                                    self.ids[email])

    async def scheduled_meeting(self) -> Invite:
        """Step 2: the schedule keyword makes a meeting; the invite gets German details."""
        alice, bob = self.users[0], self.users[1]
        invite = Invite(alice, "Angebot", minute(self.clock.now() + timedelta(minutes=30)),
                        location=f"Raum 1 {self.service.schedule_keyword}",
                        description="Agenda: Preise, Fragen", attendees=(bob,),
                        rooms=(self.service.room,))
        self.walk.step(f"{alice} invites {bob} and room {self.service.room} to "
                       f"'{invite.title}' with Location '{invite.location}'")
        event_id = self.calendar.add_invite(invite)
        self.walk.note(f"invitation put in {alice}'s {self.calendar.name}, starting "
                       f"{invite.start:%H:%M} UTC")

        async def meeting_made() -> Outcome:
            meeting = self.service.scheduled_meeting(alice, invite.title)
            if meeting is None:
                return failed(f"{self.service.name} has no meeting '{invite.title}' hosted "
                              f"by {alice}")
            return passed(f"{self.service.name} recorded meeting '{invite.title}' hosted by "
                          f"{alice}: {meeting.url} (video {meeting.dial})")

        if (await self.walk.check(meeting_made)).passed:
            made = self.service.scheduled_meeting(alice, invite.title) or _NONE
            await self.walk.check(partial(checks.invite_carries, self.calendar, alice,
                                          event_id, "de", made.url))
        return invite

    async def personal_room(self) -> None:
        """Step 3: the personal-room keyword, in the organiser's (English) language."""
        bob = self.users[1]
        invite = Invite(bob, "Roadmap", minute(self.clock.now() + timedelta(hours=3)),
                        location=self.service.personal_keyword)
        self.walk.step(f"{bob} (calendar in English) sends '{invite.title}' with Location "
                       f"'{invite.location}'")
        event_id = self.calendar.add_invite(invite)
        room = self.service.personal_room(bob)
        if room is None:
            self.walk.record(failed(f"{self.service.name} has no personal room for {bob}"))
            return
        self.walk.note(f"{bob}'s personal room in {self.service.name}: {room.url}")
        await self.walk.check(partial(checks.invite_carries, self.calendar, bob, event_id,
                                      "en", room.url))

    async def space(self) -> None:
        """Step 4: the space keyword makes a space with organiser and invitee."""
        alice, bob = self.users[0], self.users[1]
        invite = Invite(alice, "Customer call", minute(self.clock.now() + timedelta(hours=50)),
                        location=self.service.space_keyword, attendees=(bob,))
        self.walk.step(f"{alice} invites {bob} to '{invite.title}' with Location "
                       f"'{invite.location}'")
        event_id = self.calendar.add_invite(invite)

        async def space_made() -> Outcome:
            space = self.service.space(invite.title)
            if space is None or space.link is None:
                return failed(f"{self.service.name} has no space '{invite.title}' with a "
                              "meeting link")
            missing = {alice, bob} - set(space.members)
            if missing:
                return failed(f"space '{invite.title}' lacks {', '.join(sorted(missing))}")
            return passed(f"{self.service.name} recorded space '{invite.title}' with members "
                          f"{', '.join(space.members)}, link {space.link.url}")

        if (await self.walk.check(space_made)).passed:
            space = self.service.space(invite.title)
            url = space.link.url if space is not None and space.link is not None else ""
            await self.walk.check(partial(checks.invite_carries, self.calendar, alice,
                                          event_id, "de", url))

    async def invitee_views(self, invite: Invite) -> None:
        """Step 5: the invitee's meetings list, page and feed show the meeting."""
        self.walk.step(f"{self.users[1]}'s meetings list, page and calendar feed show "
                       f"'{invite.title}'")
        bob = self.people[self.users[1]]
        url = self._meeting_url(invite)

        async def listed() -> Outcome:
            found = [m for m in await bob.meetings() if m["title"] == invite.title]
            what = f"GET /api/v1/me/meetings ({bob.email}'s token) lists '{invite.title}'"
            if found and found[0]["join_url"] == url:
                return passed(f"{what} with the link {self.service.name} recorded")
            return failed(f"{what} with {url}: found {found[:1]}")

        async def page() -> Outcome:
            text = await bob.page()
            script = await bob.static("page.js")
            ok = html.escape(invite.title) in text and "EventSource" in script
            return (passed if ok else failed)(
                f"GET /me lists '{invite.title}' (its Join button comes at start) and "
                "serves its live-update script")

        async def feed() -> Outcome:
            events = [e for e in await bob.feed_events() if e["summary"] == invite.title]
            ok = bool(events) and events[0]["url"] == url
            return (passed if ok else failed)(
                f"GET /api/v1/me/calendar.ics?token=... has VEVENT '{invite.title}' with "
                "URL = the recorded link")

        for check in (listed, page, feed):
            await self.walk.check(check)

    async def join_buttons_at_start(self, invite: Invite) -> None:
        """Step 6: at start, Join buttons in the app, on the room device, on the stream."""
        attendees = (invite.organiser, *invite.attendees)
        due = invite.start - self.lead
        self.walk.step(f"'{invite.title}' is about to start: Join buttons arrive")
        url = self._meeting_url(invite)
        dial = (self.service.scheduled_meeting(invite.organiser, invite.title) or _NONE).dial
        bob = self.people[self.users[1]]
        async with bob.streaming():
            self._jump(due, f"{self.lead.total_seconds() / 60:g} min before "
                            f"'{invite.title}' starts")
            for email in attendees:
                await self.walk.check(partial(checks.joined, self.service, email, url))
            await self.walk.check(partial(checks.booked, self.service, invite, dial))
            await self.walk.check(partial(checks.streamed, bob, invite.title, url))
            await self.walk.check(partial(checks.page_joins, bob, url))

    async def detected_link(self) -> None:
        """Step 7: a Zoom link in the body (no keyword) gets Join buttons too."""
        alice, bob = self.users[0], self.users[1]
        invite = Invite(alice, "Design review",
                        minute(self.clock.now() + timedelta(minutes=20)), attendees=(bob,),
                        description=f"Join Zoom Meeting\n{ZOOM_LINK}\nMeeting ID: 812 3456 7890")
        self.walk.step(f"{alice} invites {bob} to '{invite.title}' with a Zoom link in its "
                       "body; at its start Join buttons arrive")
        self.calendar.add_invite(invite)
        person = self.people[bob]

        async def synced() -> Outcome:
            found = [m for m in await person.meetings() if m["title"] == invite.title]
            ok = bool(found) and found[0]["join_url"] == ZOOM_LINK
            return (passed if ok else failed)(
                f"{bob}'s meetings list has '{invite.title}' with the Zoom link")

        if not (await self.walk.check(synced)).passed:
            return
        async with person.streaming():
            self._jump(invite.start - self.lead, f"Join button time of '{invite.title}'")
            for email in (alice, bob):
                await self.walk.check(partial(checks.joined, self.service, email, ZOOM_LINK))
            await self.walk.check(partial(checks.streamed, person, invite.title, ZOOM_LINK))

    async def vacation(self) -> None:
        """Step 8: the vacation responder turns presence out of office."""
        carol = self.users[2]
        self.walk.step(f"{carol} turns on her vacation responder: presence becomes "
                       "out of office")
        now = self.clock.now()
        self.calendar.set_vacation(carol, now - timedelta(hours=1), now + timedelta(days=5))
        person = self.people[carol]
        async with person.streaming():
            poll = timedelta(minutes=float(self.config.get("presence", "poll_minutes")))
            self._jump(now + poll, "the next vacation-responder poll")

            async def away() -> Outcome:
                what = f"{self.service.name} shows {carol} out of office"
                return (passed if self.service.out_of_office(carol) else failed)(what)

            async def told() -> Outcome:
                events = person.stream_events("presence")
                ok = any(e.data.get("out_of_office") is True for e in events)
                return (passed if ok else failed)(
                    f"{carol}'s event stream sent presence out_of_office=true")

            await self.walk.check(away)
            await self.walk.check(told)

    # helpers --------------------------------------------------------------------------
    def _jump(self, when: datetime, why: str) -> None:
        self.clock.jump_to(when)
        self.walk.note(f"the demo clock skips ahead to {self.clock.now():%H:%M} UTC ({why}; "
                       f"now {self.clock.ahead.total_seconds() / 60:.0f} min ahead of the "
                       "wall clock)")

    def _meeting_url(self, invite: Invite) -> str:
        meeting = self.service.scheduled_meeting(invite.organiser, invite.title)
        return meeting.url if meeting is not None else "(no meeting recorded)"


@dataclass(frozen=True)
class _Missing:
    url: str = "(no meeting recorded)"
    dial: str | None = None


_NONE = _Missing()
