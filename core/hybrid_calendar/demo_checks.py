"""The checks the demo's walkthrough makes, each comparing what a source recorded.

Each returns an :class:`~hybrid_calendar.demo_steps.Outcome` saying what was compared;
the walkthrough (:mod:`hybrid_calendar.demo_mission`) settles them (retries until they
hold or time is up). The sources are the emulators, through their roles
(:mod:`hybrid_calendar.demo_roles`), and what a user's own client receives.
"""

from __future__ import annotations

import html

from hybrid_calendar.demo_people import Person
from hybrid_calendar.demo_roles import DemoCalendar, DemoMeetingService, Invite
from hybrid_calendar.demo_steps import Outcome, failed, passed
from hybrid_calendar.join_info.locales import texts


async def watched(calendar: DemoCalendar, email: str) -> Outcome:
    """The calendar service holds a change-notification channel on ``email``'s calendar."""
    what = f"{calendar.name} holds a change-notification channel on {email}'s calendar"
    return passed(what) if calendar.watched(email) else failed(what + ": none yet")


async def invite_carries(calendar: DemoCalendar, organiser: str, event_id: str,
                         locale: str, url: str) -> Outcome:
    """The invite, as the organiser's calendar holds it, has the join-link line in the
    wording of ``locale``."""
    line = f"{texts(locale)['link']}: {url}"
    stored = calendar.stored_invite(organiser, event_id)
    what = f"the invite in {organiser}'s {calendar.name} reads '{line}' ({locale})"
    return passed(what) if line in stored.description else failed(
        f"{what}: its description is {stored.description[:200]!r}")


async def joined(service: DemoMeetingService, email: str, url: str) -> Outcome:
    """``email`` received a Join button for ``url`` in the meeting service's app."""
    what = f"{email} received a Join button in the {service.name} app for {url}"
    return passed(what) if url in service.join_buttons(email) else failed(what)


async def booked(service: DemoMeetingService, invite: Invite, dial: str | None) -> Outcome:
    """The invited room's device holds a booking for the meeting, at its start, dialing
    the meeting's video address."""
    found = [b for b in service.room_bookings() if b.title == invite.title]
    what = (f"{invite.rooms[0]}'s video device holds booking '{invite.title}' at "
            f"{invite.start:%H:%M} dialing {dial} (its Join button)")
    ok = bool(found) and found[0].start == invite.start and dial in found[0].dial
    return passed(what) if ok else failed(f"{what}: found {found}")


async def page_joins(person: Person, url: str) -> Outcome:
    """The person's page shows a Join button linking to ``url``."""
    ok = f'href="{html.escape(url)}"' in await person.page()
    return (passed if ok else failed)(f"{person.email}'s page /me shows a Join button "
                                      "linking to it")


async def streamed(person: Person, title: str, url: str) -> Outcome:
    """The person's event stream delivered a ``join_button`` for ``title`` with ``url``."""
    events = person.stream_events("join_button")
    ok = any(e.data.get("title") == title and (e.data.get("join") or {}).get("url") == url
             for e in events)
    return (passed if ok else failed)(
        f"{person.email}'s event stream sent join_button '{title}' with the link")
