"""The personal web page: today's and upcoming meetings, out-of-office banner, Join buttons.

``GET /me`` renders the whole list on the server, so it works without JavaScript (a
"Refresh" link reloads it). ``/me/static/page.js`` then follows the event stream and
re-renders the list from ``GET /me/fragment`` on every event, announcing new Join buttons
in a polite live region. A Join button is a link to the meeting, present from start minus
the lead time until the meeting ends, as the server's clock says. The page uses
landmarks, headings, a skip link and visible focus, and reflows to one column on phones.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.people import outbox
from hybrid_calendar.people.auth import Principal, personal
from hybrid_calendar.people.views import (
    lead_time,
    local_span,
    meeting_view,
    personal_meetings,
    user_zone,
)

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

STATIC = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your meetings</title>
<link rel="stylesheet" href="/me/static/page.css">
<script src="/me/static/page.js" defer></script>
</head>
<body data-last-event-id="{last_event_id}">
<a class="skip" href="#content">Skip to meetings</a>
<header><h1>Your meetings</h1>
<p class="zone">Times in {zone}. <a href="/me">Refresh</a></p>
<form method="post" action="/me/sign-out"><button type="submit" class="quiet">Sign out</button>
</form></header>
<div id="announcer" class="vh" role="status" aria-live="polite"></div>
<main id="content" tabindex="-1">
{content}
</main>
</body>
</html>
"""


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _web_link(url: str | None) -> bool:
    """True for an ``http(s)`` link. A join link comes from an invite anyone may send,
    and some that the parser keeps are refused by ``urlsplit`` (a port written with a
    full-width ``／``): such a link is not shown as one, rather than failing the page."""
    if not url:
        return False
    try:
        return urlsplit(url).scheme in ("https", "http")
    except ValueError:
        return False


def _join_control(view: dict[str, Any], zone: ZoneInfo) -> str:
    title = html.escape(view["title"] or "meeting")
    url = view["join_url"]
    if view["join_button_due"] and _web_link(url):
        return (f'<a class="join" href="{html.escape(url)}" target="_blank" '
                f'rel="noopener noreferrer">Join<span class="vh"> {title}</span></a>')
    if view["join_button_due"] and view["dial"]:
        return f'<p class="dial">Dial <span class="mono">{html.escape(view["dial"])}</span></p>'
    if view["join_button_at"]:
        at = datetime.fromisoformat(view["join_button_at"]).astimezone(zone)
        return f'<p class="later">Join from {at:%H:%M}</p>'
    return ""


def _meeting_item(view: dict[str, Any], zone: ZoneInfo) -> str:
    if view["all_day"]:
        when = '<span class="allday">All day</span>'
    else:
        start = datetime.fromisoformat(view["start"])
        end = datetime.fromisoformat(view["end"])
        when = (f'<time datetime="{start.isoformat()}">{start:%H:%M}</time>'
                f'<span aria-hidden="true">–</span><span class="vh"> to </span>'
                f'<time datetime="{end.isoformat()}">{end:%H:%M}</time>')
    meta = [html.escape(view["provider"].capitalize())] if view["provider"] else []
    if view["organizer"]:
        meta.append(f'organised by {html.escape(view["organizer"])}')
    cancelled = ' <span class="badge">Cancelled</span>' if view["status"] == "cancelled" else (
        ' <span class="badge">Declined</span>' if view["declined"] else "")
    due = " due" if view["join_button_due"] else ""
    return (f'<li class="meeting{due}" data-event-id="{html.escape(view["event_id"])}">'
            f'<div class="when">{when}</div>'
            f'<div class="what"><p class="title">{html.escape(view["title"] or "(no title)")}'
            f'{cancelled}</p><p class="meta">{" · ".join(meta)}</p></div>'
            f'<div class="action">{_join_control(view, zone)}</div></li>')


def render_content(views: list[dict[str, Any]], zone: ZoneInfo, today: date,
                   out_of_office: bool | None) -> str:
    """The list part of the page (also served alone as the fragment)."""
    parts: list[str] = []
    if out_of_office:
        parts.append('<div class="banner" role="note"><strong>Out of office.</strong> '
                     'Your calendar says you are away.</div>')
    by_day: dict[date, list[dict[str, Any]]] = {}
    for view in views:
        start = datetime.fromisoformat(view["start"]).date()
        last = datetime.fromisoformat(view["end"]) - timedelta(microseconds=1)
        first = max(start, today)
        if last.date() < today:
            continue
        by_day.setdefault(first, []).append(view)
    todays = by_day.pop(today, [])
    parts.append(f'<section aria-labelledby="today-h"><h2 id="today-h">Today, '
                 f'{_day_label(today)}</h2>')
    parts.append(_list(todays, zone, "No more meetings today."))
    parts.append('</section><section aria-labelledby="upcoming-h">'
                 '<h2 id="upcoming-h">Upcoming</h2>')
    if not by_day:
        parts.append('<p class="empty">Nothing scheduled.</p>')
    for day in sorted(by_day):
        parts.append(f'<h3>{_day_label(day)}</h3>{_list(by_day[day], zone, "")}')
    parts.append("</section>")
    return "\n".join(parts)


def _list(views: list[dict[str, Any]], zone: ZoneInfo, empty: str) -> str:
    if not views:
        return f'<p class="empty">{empty}</p>' if empty else ""
    return '<ul class="meetings">' + "".join(_meeting_item(v, zone) for v in views) + "</ul>"


async def page_content(gateway: Gateway, who: Principal) -> tuple[str, ZoneInfo]:
    """Render the list for a user at the gateway's current time."""
    zone = user_zone(gateway, who.user)
    now, lead = gateway.clock.now(), lead_time(gateway)
    meetings = await personal_meetings(gateway, who.user)
    today = now.astimezone(zone).date()
    views = [meeting_view(m, zone, now, lead, who.user.email) for m in meetings
             if local_span(m, zone).end.date() >= today]
    presence = (await gateway.store.get_sync_state(who.user.id)).out_of_office
    return render_content(views, zone, today, presence), zone


def page_routes(gateway: Gateway) -> list[BaseRoute]:
    """The page, its fragment and its two static files."""

    async def page(request: Request, who: Principal) -> Response:
        last = await outbox.latest_seq(gateway)  # the stream resumes right after this page
        content, zone = await page_content(gateway, who)
        body = _PAGE.format(last_event_id=last, zone=html.escape(zone.key), content=content)
        return HTMLResponse(body, headers=SECURITY_HEADERS)

    async def fragment(request: Request, who: Principal) -> Response:
        content, _zone = await page_content(gateway, who)
        return HTMLResponse(content, headers=SECURITY_HEADERS)

    async def static(request: Request, who: Principal) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        text = resources.files("hybrid_calendar.people").joinpath("static", name).read_text()
        return Response(text, media_type=STATIC[name], headers=SECURITY_HEADERS)

    return [
        Route("/me", personal(gateway, page), methods=["GET"]),
        Route("/me/fragment", personal(gateway, fragment), methods=["GET"]),
        Route("/me/static/{name}", personal(gateway, static), methods=["GET"]),
    ]
