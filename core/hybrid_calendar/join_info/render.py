"""The join block written into an invite, and the plan of that write.

The block sits between :data:`BEGIN_MARKER` and :data:`END_MARKER` lines. A later update
replaces what is between them, so join details are never duplicated, and the organiser's
own text before and after is kept byte for byte. The marker value stored with the event
(``extendedProperties.private[MARKER_KEY]``) is the SHA-256 of the rendered block: when
it already matches, :func:`plan_invite_update` returns ``None`` and nothing is written,
which makes the gateway's own write a fixpoint.

A meeting service that refused a keyword (``JoinInfo.source == "refused"``) gives a note
instead of a link (``extra["note"]``, one line in the organiser's language). Its marker is
:data:`REFUSED_PREFIX` + a fingerprint of what the organiser can edit (times, title,
Location, attendees, recurrence) + the block's hash: the event counts as processed until
the organiser edits it, and then the keyword is tried again (:func:`retry_after_edit`).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping

from hybrid_calendar.join_info.keywords import KeywordConfig, find_keyword, replace_keyword
from hybrid_calendar.join_info.locales import normalize_locale, texts
from hybrid_calendar.models import CalendarEvent, InviteUpdate, JoinInfo, KeywordRequest

MARKER_KEY = "hybridCalendarJoin"
"""``extendedProperties.private`` key holding the hash of the rendered join block."""

BEGIN_MARKER = "-::~:~::~ hybrid-calendar join details ~::~:~::-"
END_MARKER = "-::~:~::~ end of join details ~::~:~::-"

REFUSED_PREFIX = "refused:"
"""Start of the marker written with a refusal note (see :func:`retry_after_edit`)."""

_HTML_HINT = re.compile(r"<(?:br|p|div|a|b|i|u|span|ul|ol|li|html)\b", re.IGNORECASE)


def is_processed(event: CalendarEvent) -> bool:
    """True when the gateway already wrote join details into ``event`` (marker present)."""
    return bool(event.private_properties.get(MARKER_KEY))


def invite_fingerprint(event: CalendarEvent) -> str:
    """A hash of what the organiser edits in an event and the gateway never writes."""
    parts = [str(event.start), str(event.end), event.summary, event.location,
             ",".join(sorted(a.email.casefold() for a in event.attendees)),
             "|".join(event.recurrence)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def retry_after_edit(event: CalendarEvent) -> bool:
    """True when the event carries a refusal marker and was edited since it was written,
    so its keyword is tried again."""
    marker = event.private_properties.get(MARKER_KEY) or ""
    if not marker.startswith(REFUSED_PREFIX):
        return False
    return marker[len(REFUSED_PREFIX):].split(":", 1)[0] != invite_fingerprint(event)


def looks_like_html(text: str) -> bool:
    """True when a description is HTML (Google stores rich-text descriptions as HTML)."""
    return "<" in text and _HTML_HINT.search(text) is not None


def render_block(join: JoinInfo, locale: str | None, *, as_html: bool = False,
                 templates: Mapping[str, str] | None = None) -> str:
    """The join block, markers included, in the organiser's language.

    :param templates: admin overrides of the ``header`` and ``footer`` lines.
    """
    words = dict(texts(locale))
    words.update({k: v for k, v in (templates or {}).items() if k in ("header", "footer")})
    lines: list[tuple[str, str | None]] = [(words["header"], None)]
    if join.url:
        lines.append((f"{words['link']}: ", join.url))
    if join.meeting_id:
        lines.append((f"{words['number']}: {join.meeting_id}", None))
    if join.passcode:
        lines.append((f"{words['passcode']}: {join.passcode}", None))
    if join.dial:
        lines.append((f"{words['video']}: {join.dial}", None))
    if join.extra.get("note"):
        lines.append((str(join.extra["note"]), None))
    if words["footer"]:
        lines.append((words["footer"], None))
    if not as_html:
        body = [text + (link or "") for text, link in lines]
        return "\n".join([BEGIN_MARKER, *body, END_MARKER])
    rendered = []
    for text, link in lines:
        line = html.escape(text, quote=False)
        if link:
            escaped = html.escape(link)
            line += f'<a href="{escaped}">{escaped}</a>'
        rendered.append(line)
    return "<br>".join([BEGIN_MARKER, *rendered, END_MARKER])


def marker_for(block: str) -> str:
    """The marker value of a rendered block: its SHA-256, hex."""
    return hashlib.sha256(block.encode("utf-8")).hexdigest()


def block_is_html(description: str) -> bool:
    """Whether a join block for ``description`` is written as HTML: in the format of the
    block already there (so a plain block stays plain when the organiser later types
    something HTML-like around it, and the update stays a fixpoint), else as the
    description looks."""
    start = description.find(BEGIN_MARKER)
    if start >= 0:
        end = description.find(END_MARKER, start)
        return looks_like_html(description[start:len(description) if end < 0 else end])
    return looks_like_html(description)


def replace_block(description: str, block: str) -> str:
    """``description`` with its join block replaced by ``block`` (or ``block`` appended).

    A begin marker without an end marker is taken to run to the end of the text.
    """
    start = description.find(BEGIN_MARKER)
    if start >= 0:
        end = description.find(END_MARKER, start)
        stop = len(description) if end < 0 else end + len(END_MARKER)
        return description[:start] + block + description[stop:]
    if not description:
        return block
    separator = "<br><br>" if looks_like_html(description) else "\n\n"
    return description + separator + block


def plan_invite_update(event: CalendarEvent, join: JoinInfo, locale: str | None,
                       request: KeywordRequest | None = None, *,
                       keyword_config: KeywordConfig | None = None,
                       templates: Mapping[str, str] | None = None) -> InviteUpdate | None:
    """What to write into ``event`` for the meeting ``join``; ``None`` if nothing changes.

    The keyword (``request``, or the one :func:`find_keyword` finds) is replaced in
    Location by the join link (or the dial string when there is no link); the join
    block is put between the markers in the description.

    A meeting the provider creates in the write itself (``join.extra["conference"]``,
    e.g. Google Meet, whose link is only known after the write) gives an update asking
    for that conference: the keyword is taken out of Location, the description is left
    as it is (the provider shows the conference), and the marker names the conference.
    """
    language = normalize_locale(locale)
    if request is None:
        request = find_keyword(event.location, keyword_config or KeywordConfig())
    if join.extra.get("conference"):
        return _plan_conference(event, str(join.extra["conference"]), language, request)
    block = render_block(join, language, as_html=block_is_html(event.description),
                         templates=templates)
    marker = marker_for(block)
    if join.source == "refused":
        marker = f"{REFUSED_PREFIX}{invite_fingerprint(event)}:{marker}"
    location = event.location
    replacement = join.url or join.dial
    if request is not None and replacement:
        location = replace_keyword(location, request, replacement)
    description = replace_block(event.description, block)
    if (event.private_properties.get(MARKER_KEY) == marker and location == event.location
            and description == event.description):
        return None
    return InviteUpdate(location=location, description=description, marker=marker,
                        locale=language)


def _plan_conference(event: CalendarEvent, conference: str, language: str,
                     request: KeywordRequest | None) -> InviteUpdate | None:
    marker = marker_for(f"conference:{conference}")
    if event.private_properties.get(MARKER_KEY) == marker:
        return None
    location = event.location
    if request is not None:
        before, _, after = replace_keyword(location, request, "\x00").partition("\x00")
        location = " ".join(part for part in (before.rstrip(), after.lstrip()) if part)
    return InviteUpdate(location=location, description=event.description, marker=marker,
                        locale=language, conference=conference)
