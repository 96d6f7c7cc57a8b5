"""The personal iCalendar feed: the same meetings as the API, for any calendar app.

``GET /api/v1/me/calendar.ics`` (token in the header, or as ``?token=`` for apps that
subscribe by URL only). Built with the ``icalendar`` package: timed events in UTC,
all-day events as ``VALUE=DATE`` on the user's dates, the join link in ``URL`` and in
``CONFERENCE`` (RFC 7986, ``VALUE=URI`` with ``FEATURE`` and ``LABEL``), the video dial
string as a second ``CONFERENCE`` (``sip:``), ``CLASS:PRIVATE`` for a meeting its organiser
marked private, ``PARTSTAT=DECLINED`` on the attendees who declined (and
``TRANSP:TRANSPARENT`` when the feed's own user did: the time stays free), and
``REFRESH-INTERVAL`` so subscribers poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from icalendar import Calendar, Event, Parameters
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.models import Meeting
from hybrid_calendar.people.auth import Principal, personal
from hybrid_calendar.people.views import local_span, personal_meetings, user_zone

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from hybrid_calendar.gateway import Gateway

REFRESH = timedelta(minutes=15)
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def meeting_event(meeting: Meeting, zone: ZoneInfo, uid_domain: str, stamp: datetime,
                  owner: str) -> Event:
    """One VEVENT for a meeting of the user ``owner`` (their address)."""
    event = Event()
    event.add("uid", f"{meeting.event_id}@{uid_domain}")
    event.add("dtstamp", stamp)
    if meeting.all_day:
        span = local_span(meeting, zone)
        event.add("dtstart", span.first_day)
        event.add("dtend", span.end_day)
    else:
        event.add("dtstart", meeting.start.astimezone(UTC))
        event.add("dtend", meeting.end.astimezone(UTC))
    event.add("summary", meeting.title)
    event.add("status", _STATUS.get(meeting.status, "CONFIRMED"))
    if meeting.private:  # an app the feed is shared on shows it as busy only
        event.add("class", "PRIVATE")
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.organizer:
        event.add("organizer", f"mailto:{meeting.organizer}")
    if meeting.declined_by(owner):
        event.add("transp", "TRANSPARENT")
    for invitee in meeting.attendees:
        if meeting.declined_by(invitee):
            event.add("attendee", f"mailto:{invitee}",
                      parameters=Parameters({"PARTSTAT": "DECLINED"}))
        else:
            event.add("attendee", f"mailto:{invitee}")
    join = meeting.join
    if join is not None and join.url:
        event.add("url", join.url)
        event.add("conference", join.url, parameters=Parameters({
            "VALUE": "URI", "FEATURE": ["AUDIO", "VIDEO"],
            "LABEL": f"Join ({join.provider})"}))
    if join is not None and join.dial:
        dial = join.dial if ":" in join.dial.split("@")[0] else f"sip:{join.dial}"
        event.add("conference", dial, parameters=Parameters({
            "VALUE": "URI", "FEATURE": ["VIDEO"], "LABEL": "Video system"}))
    return event


def build_feed(meetings: list[Meeting], zone: ZoneInfo, uid_domain: str, stamp: datetime,
               owner: str) -> bytes:
    """The whole VCALENDAR as bytes, for the user ``owner`` (their address)."""
    calendar = Calendar()
    calendar.add("prodid", "-//hybrid-calendar//people feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", "Meetings")
    calendar.add("x-wr-calname", "Meetings")
    calendar.add("x-wr-timezone", zone.key)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, zone, uid_domain, stamp, owner))
    ical: bytes = calendar.to_ical()
    return ical


def feed_routes(gateway: Gateway) -> list[BaseRoute]:
    """The feed route."""
    uid_domain = urlsplit(str(gateway.config.get("gateway", "public_url"))).hostname \
        or "hybrid-calendar"

    async def feed(request: Request, who: Principal) -> Response:
        meetings = await personal_meetings(gateway, who.user)
        body = build_feed(meetings, user_zone(gateway, who.user), uid_domain,
                          gateway.clock.now(), who.user.email)
        return Response(body, media_type="text/calendar; charset=utf-8", headers={
            "Content-Disposition": 'inline; filename="meetings.ics"'})

    return [Route("/api/v1/me/calendar.ics", personal(gateway, feed, allow_query=True),
                  methods=["GET"])]
