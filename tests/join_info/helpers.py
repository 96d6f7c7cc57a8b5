"""Helpers of the join-info tests: events from text, HTML and wrapper forms of invitations."""

from __future__ import annotations

import base64
import html
from urllib.parse import quote

from hybrid_calendar.models import CalendarEvent, Conference, ConferenceEntryPoint


def event(description: str = "", location: str = "", conference: Conference | None = None,
          private: dict[str, str] | None = None) -> CalendarEvent:
    """A minimal confirmed event carrying the given texts."""
    return CalendarEvent(id="evt1", calendar_id="alice@example.com", status="confirmed",
                         start=None, end=None, description=description, location=location,
                         conference=conference, private_properties=private or {})


def conference(uri: str, solution: str = "addOn", name: str | None = None,
               **entry: str) -> Conference:
    """Conference data with one video entry point."""
    return Conference(solution=solution, name=name,
                      entry_points=(ConferenceEntryPoint(kind="video", uri=uri, **entry),))


def safelinks(url: str) -> str:
    """``url`` wrapped by Outlook SafeLinks."""
    return ("https://nam12.safelinks.protection.outlook.com/?url=" + quote(url, safe="")
            + "&data=05%7C02%7C%7Cabc%7C0%7C0%7C638%7CUnknown&sdata=AbC%2Bd%3D&reserved=0")


def google_redirect(url: str) -> str:
    """``url`` wrapped by Google's redirector, as Google Calendar writes it."""
    return ("https://www.google.com/url?q=" + quote(url, safe="")
            + "&sa=D&source=calendar&ust=1700000000000000&usg=AOvVaw3abcDEF")


def proofpoint_v2(url: str) -> str:
    """``url`` wrapped by Proofpoint URL Defense v2."""
    encoded = "".join(c if c.isalnum() or c in ".~" else "_" if c == "/" else f"-{ord(c):02X}"
                      for c in url)
    return (f"https://urldefense.proofpoint.com/v2/url?u={encoded}&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=abc&m=def&s=ghi&e=")


def proofpoint_v3(url: str) -> str:
    """``url`` wrapped by Proofpoint URL Defense v3 (``?``, ``=`` and ``&`` replaced)."""
    replaced = []
    out = []
    for char in url:
        if char in "?=&":
            replaced.append(char)
            out.append("*")
        else:
            out.append(char)
    encoded = base64.urlsafe_b64encode("".join(replaced).encode()).decode().rstrip("=")
    return f"https://urldefense.com/v3/__{''.join(out)}__;{encoded}!!ACWV5N9M2RV99hQ!abc$"


def as_html(body: str, url: str | None, mode: str) -> str:
    """The invitation as Google Calendar HTML; ``mode`` says how the join link appears.

    ``visible``: ``<a href=URL>URL</a>``; ``hidden``: ``<a href=URL>Join meeting</a>``;
    ``google``: the href goes through Google's redirector, the text shows the URL.
    """
    text = html.escape(body, quote=False).replace("\n", "<br>")
    if url is None:
        return "<div>" + text + "</div>"
    escaped = html.escape(url, quote=False)
    href = html.escape(google_redirect(url) if mode == "google" else url)
    shown = "Join meeting" if mode == "hidden" else escaped
    return "<div>" + text.replace(escaped, f'<a href="{href}" target="_blank">{shown}</a>') + \
        "</div>"
