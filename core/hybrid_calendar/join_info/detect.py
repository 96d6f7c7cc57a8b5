"""Join-link detection for one event, and the ranking of candidates.

:func:`find_candidates` returns every join candidate in an event's conference data,
Location and description; :func:`best_join_info` picks one: conference data before
Location before the description; within a source a service's join link before a SIP
address and both before a "weak" link (a YouTube video); then the service met first in
the text; among links to the same meeting the one carrying credentials (Zoom's ``pwd=``),
else the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from hybrid_calendar.join_info.catalog import INDEX, SERVICES
from hybrid_calendar.join_info.dial import Context, DialRule, derive_dial, sip_dial
from hybrid_calendar.join_info.extract import (
    Text,
    find_addresses,
    find_bare_urls,
    find_sip_uris,
    find_urls,
    prepare,
)
from hybrid_calendar.join_info.services import Classified
from hybrid_calendar.join_info.unwrap import unwrap
from hybrid_calendar.models import CalendarEvent, Conference, JoinInfo

SOURCE_RANK = {"created": 0, "conference": 0, "location": 1, "body": 2}
"""Lower ranks win."""

SIP_PROVIDERS = frozenset({"sip", "h323"})
WEAK_PROVIDERS = frozenset(
    s.provider for s in SERVICES
    if s.weak and all(o.weak for o in SERVICES if o.provider == s.provider))
"""Providers whose links are only sometimes meetings."""

LABELLED_PROVIDERS = frozenset({
    "webex", "zoom", "teams", "gotomeeting", "bluejeans", "chime", "ringcentral", "tencent",
    "lark", "zoho", "lifesize", "dialpad"})
"""Services whose invitations print "Meeting ID" and "Passcode" lines; those values are
reported with the link (Cisco devices join Teams meetings by id and passcode)."""

_NUMERIC_USER = re.compile(r"\d{3,20}(?:[.#*]\d{1,12})?")

_BACKUP = re.compile(
    r"\b(?:backup|back-up|fallback|fall-back|secondary|old|previous|outdated|deprecated"
    r"|ersatz\w*|alte[nrs]?|vorherige[nr]?|secours|repli|ancien(?:ne)?|respaldo|reserva)\b"
    r"|\b(?:do not|don't|dont|no longer|not) use\b|nicht (?:mehr )?(?:verwenden|nutzen)"
    r"|\bif\b[^\n]{0,40}\b(?:fails?|is down|doesn't work|does not work|not working)"
    r"|\bfalls\b[^\n]{0,40}\bnicht\b|\bsi\b[^\n]{0,40}\bne fonctionne pas\b",
    re.IGNORECASE)
"""Words before a link that mark it as a backup or an outdated link ("Backup Zoom:",
"if Teams fails", "do not use the old link"): such a link ranks after the others."""

_BACKUP_WINDOW = 160
"""Characters before a link searched for :data:`_BACKUP` (its line, or the line before)."""

MAX_URLS = 200
"""Links inspected per Location or description (an invitation has a handful)."""

_SOLUTION_PROVIDERS = {"hangoutsmeet": "meet", "eventhangout": "hangouts",
                       "eventnamedhangout": "hangouts"}


CREDENTIAL_PARAMS = frozenset({"pwd", "passcode", "password", "pass", "pin", "p", "tk"})
"""Query parameters that carry a meeting's passcode (Zoom ``pwd``, Teams ``p``, ...)."""


def credential_count(join: JoinInfo) -> int:
    """How many passcode-carrying query parameters a candidate's URL has."""
    url = join.url
    if not url or "?" not in url:
        return 0
    query = url.partition("?")[2].partition("#")[0]
    return sum(1 for pair in query.split("&") if pair.partition("=")[0].lower()
               in CREDENTIAL_PARAMS)


def rank_key(join: JoinInfo) -> tuple[int, int, int]:
    """Sort key of a candidate: source, kind of link, then credentials in the URL first.

    Kinds: a service's join link, a SIP address or URI, a weak link (YouTube), and last
    a link the text marks as a backup or outdated (``extra["role"] == "backup"``).
    """
    source, tier = _source_tier(join)
    return (source, tier, -credential_count(join))


def _source_tier(join: JoinInfo) -> tuple[int, int]:
    """The first two parts of :func:`rank_key`."""
    if join.extra.get("role") == "backup":
        tier = 3
    elif join.provider in WEAK_PROVIDERS:
        tier = 2
    elif join.url is None or join.provider in SIP_PROVIDERS or join.url.startswith(
            ("sip:", "sips:", "h323:")):
        tier = 1
    else:
        tier = 0
    return (SOURCE_RANK.get(join.source, 3), tier)


def best_join_info(candidates: Iterable[JoinInfo]) -> JoinInfo | None:
    """The candidate the gateway uses, or ``None`` when there is none.

    Order: source (conference, location, body); kind of link (see :func:`rank_key`); then
    the provider met first (registration order follows the text); within one provider
    the meeting met first (an updated link above a quoted older one); among links of the
    same meeting (same path) the one whose URL carries the passcode (Zoom's ``pwd=``),
    else the one met first (so Skype's "Join Skype Meeting" beats its "Web App" link).

    A chosen candidate without a dial string borrows one from a lower-ranked candidate
    of the same provider (a Webex link in Location, its SIP address in the body).
    """
    items = list(candidates)
    if len(items) < 2:
        return items[0] if items else None
    ranks = [_source_tier(join) for join in items]
    lowest = min(ranks)
    if ranks.count(lowest) == 1:  # the sort's first key decides alone
        best = items[ranks.index(lowest)]
        if best.dial is not None:
            return best
    first: dict[tuple[int, int, str], int] = {}
    meetings: dict[tuple[tuple[int, int, str], str], int] = {}
    keyed = []
    for index, join in enumerate(items):
        source, tier, credentials = rank_key(join)
        kind = (source, tier, join.provider)
        group = first.setdefault(kind, index)
        meeting = index
        if group != index:  # a second candidate of this provider: compare meetings
            meetings.setdefault((kind, _meeting_path(items[group])), group)
            meeting = meetings.setdefault((kind, _meeting_path(join)), index)
        keyed.append(((source, tier, group, meeting, credentials, index), join))
    keyed.sort(key=lambda item: item[0])
    ordered = [join for _, join in keyed]
    best = ordered[0]
    if best.dial is None:
        for other in ordered[1:]:
            if other.dial and other.provider == best.provider:
                return replace(best, dial=other.dial,
                               meeting_id=best.meeting_id or other.meeting_id,
                               passcode=best.passcode or other.passcode)
    return best


def _meeting_path(join: JoinInfo) -> str:
    """What identifies a candidate's meeting: its URL's path (no host, query or fragment),
    so ``zoom.us/j/1`` and ``us02web.zoom.us/j/1?pwd=x`` are one meeting; else the dial."""
    url = join.url
    if not url:
        return join.dial or ""
    rest = url.partition("://")[2] or url
    path = rest[rest.find("/"):] if "/" in rest else ""
    for stop in "?#":
        path = path.partition(stop)[0]
    return path.rstrip("/").lower()


def detect(event: CalendarEvent, rules: Sequence[DialRule] = ()) -> JoinInfo | None:
    """The best join information of ``event`` (conference, then Location, then body).

    Equivalent to ``best_join_info(find_candidates(event, rules))`` but stops at the
    first source that has a candidate, since a later source can never outrank it, unless
    the chosen candidate has no dial string: a later source may then lend it one (a Webex
    link in Location, its SIP address in the body), so the remaining sources are read
    too (the sources already read are not read again).
    """
    sources = _by_source(event, rules, shortcut=True)
    found: list[JoinInfo] = []
    for candidates in sources:
        found.extend(candidates)
        if found:
            break
    best = best_join_info(found)
    if best is None or best.dial is not None:
        return best
    for candidates in sources:
        found.extend(candidates)
    return best_join_info(found)


def find_candidates(event: CalendarEvent, rules: Sequence[DialRule] = (), *,
                    stop_early: bool = False) -> list[JoinInfo]:
    """Every join candidate in ``event``, in source order, duplicates removed.

    :param stop_early: return after the first source (conference, Location, body) that
        has any candidate.
    """
    found: list[JoinInfo] = []
    for candidates in _by_source(event, rules):
        found.extend(candidates)
        if stop_early and found:
            break
    return found


def _by_source(event: CalendarEvent, rules: Sequence[DialRule], *, shortcut: bool = False
               ) -> Iterator[list[JoinInfo]]:
    """The candidates of each source in turn: conference data, Location, description
    (sources the event lacks are skipped); a source is read when it is asked for.

    :param shortcut: the first source with a candidate may be given as its best
        candidate alone when that one is a service's join link with a dial string (see
        :func:`_from_text`); later sources are always given whole. Only for
        :func:`detect`, which then stops at that source.
    """
    body = prepare(event.description) if event.description else None
    location = prepare(event.location) if event.location else None
    context_text = (location.plain if location else "") + "\n" + (body.plain if body else "")
    context = Context(context_text)
    if event.conference is not None:
        candidates = _from_conference(event.conference, context, rules)
        shortcut = shortcut and not candidates
        yield candidates
    if location is not None:
        candidates = _from_text(location, "location", context, rules, shortcut)
        shortcut = shortcut and not candidates
        yield candidates
    if body is not None:
        yield _from_text(body, "body", context, rules, shortcut)


def _join(found: Classified, source: str, context: Context, rules: Sequence[DialRule],
          meeting_id: str | None = None, code: str | None = None) -> JoinInfo:
    dial = derive_dial(found, context, rules, meeting_id=meeting_id, code=code)
    provider = found.service.provider
    meeting_id = found.meeting_id or meeting_id
    if provider in LABELLED_PROVIDERS:
        meeting_id = meeting_id or context.meeting_number
        code = code or context.passcode
    return JoinInfo(provider=provider, url=found.url, source=source, dial=dial,
                    meeting_id=meeting_id, passcode=code, extra={"service": found.service.key})


def is_backup(text: str, position: int, after: int = 0) -> bool:
    """Whether the words before the link at ``position`` mark it as a backup or old link.

    Looks at the link's line up to the link, but not before ``after`` (the end of the
    previous link, so "Zoom (backup) <link> | Teams <link>" marks only the first); a link
    that starts its line is judged by the line before too ("Backup (Zoom):" above it).
    """
    low = max(0, after, position - _BACKUP_WINDOW)
    newline = text.rfind("\n", low, position)
    start = newline + 1 if newline >= 0 else low
    if newline >= 0 and not text[start:position].strip(" \t\u00a0•*-<(["):
        previous = text.rfind("\n", low, newline)
        start = previous + 1 if previous >= 0 else low
    return _BACKUP.search(text, start, position) is not None


def _from_text(text: Text, source: str, context: Context, rules: Sequence[DialRule],
               shortcut: bool = False) -> list[JoinInfo]:
    """The candidates of a Location or description: its service links in order, then
    its SIP URIs and SIP video addresses.

    With ``shortcut``, when the best of the links is a service's join link (no backup,
    no weak link) that has a dial string of its own, that link alone is returned, without looking
    for SIP URIs and addresses: every one of those ranks below such a link (a SIP
    candidate's kind comes after a join link's, and appending candidates changes no
    earlier candidate's sort key), and a link with its own dial string borrows nothing, so
    :func:`best_join_info` picks the same candidate from either list
    (``tests/join_info/test_differential.py`` holds ``detect`` equal to
    ``best_join_info(find_candidates(...))``).
    """
    plain = text.plain
    urls = find_urls(plain)
    if "/" in plain:
        bare = find_bare_urls(plain)
        if bare:
            urls.extend(bare)
            urls.sort()
    if text.hrefs:
        urls.extend([(-1, href) for href in text.hrefs])
    result: list[JoinInfo] = []
    positions: list[tuple[int, int]] = []
    seen: set[str] = set()
    previous_end = 0
    for position, raw in urls if len(urls) <= MAX_URLS else urls[:MAX_URLS]:
        url = unwrap(raw)
        after, previous_end = previous_end, (position + len(raw) if position >= 0 else 0)
        if url in seen:
            continue
        seen.add(url)
        found = INDEX.classify(url)
        if found is not None:
            result.append(_join(found, source, context, rules))
            positions.append((position, after))
    if len(result) > 1:  # a backup mark only matters next to another link
        for index, (position, after) in enumerate(positions):
            if position > 0 and is_backup(plain, position, after):
                join = result[index]
                result[index] = replace(join, extra={**join.extra, "role": "backup"})
    if shortcut and result:
        best = best_join_info(result)
        # its own dial string: not one borrowed from a lower-ranked link (a SIP URI or
        # address of the same provider would rank before that link and lend instead)
        if best is not None and best.dial is not None and _source_tier(best)[1] == 0 \
                and any(best is join for join in result):
            return [best]
    if ":" in plain:
        for _, uri in find_sip_uris(plain):
            dial = sip_dial(uri)
            if dial and uri not in seen:
                seen.add(uri)
                result.append(_sip(uri, dial, source))
    addresses: list[tuple[str, str]] = []
    if "@" in plain:
        addresses = [(user, domain) for _, user, domain in context.addresses]
        if source == "location":  # a room-system address alone in Location: 688432@rp1.vc
            addresses.extend((user, domain) for _, user, domain in find_addresses(plain)
                             if _NUMERIC_USER.fullmatch(user))
    for user, domain in addresses:
        dial = f"{user}@{domain}"
        if dial in plain and dial not in seen and f"sip:{dial}" not in seen:
            seen.add(dial)
            result.append(_sip(None, dial, source))
    return result


def _sip(uri: str | None, dial: str, source: str) -> JoinInfo:
    domain = dial.rpartition("@")[2].split(":", 1)[0]
    owner = INDEX.sip_service(domain) if domain else None
    if owner is not None:
        provider = owner.provider
    elif uri is not None and uri.lower().startswith("h323:"):
        provider = "h323"
    else:
        provider = "sip"
    return JoinInfo(provider=provider, url=uri, source=source, dial=dial,
                    extra={"service": owner.key if owner else provider})


def _from_conference(conference: Conference, context: Context,
                     rules: Sequence[DialRule]) -> list[JoinInfo]:
    video = sip = None
    code = meeting = None
    for entry in conference.entry_points:
        kind = entry.kind.lower()
        if kind == "video" and video is None:
            video = entry.uri
            meeting = entry.meeting_code or conference.conference_id
            code = entry.passcode or entry.pin
        elif kind == "sip" and sip is None:
            sip = entry.uri
    sip_string = sip_dial(sip) if sip and ":" in sip else sip
    if video:
        url = unwrap(video)
        found = INDEX.classify(url)
        digits = "".join(filter(str.isdigit, meeting or ""))
        number = digits if meeting and len(digits) >= len(meeting.replace(" ", "")) else meeting
        if found is not None:
            join = _join(found, "conference", context, rules, meeting_id=number, code=code)
            if sip_string and not any(rule.pattern.search(url) for rule in rules):
                join = replace(join, dial=sip_string)
            return [join]
        provider = _conference_provider(conference, url)
        return [JoinInfo(provider=provider, url=url, source="conference", dial=sip_string,
                         meeting_id=number, passcode=code, extra={"service": provider})]
    if sip and sip_string:
        return [_sip(sip, sip_string, "conference")]
    return []


def _conference_provider(conference: Conference, url: str) -> str:
    solution = (conference.solution or "").lower()
    if solution in _SOLUTION_PROVIDERS:
        return _SOLUTION_PROVIDERS[solution]
    name = (conference.name or "").lower()
    words = set(re.findall(r"[a-z0-9]+", name))
    for service in SERVICES:
        if service.provider in words or service.name.lower() == name:
            return service.provider
    host = url.split("//", 1)[-1].split("/", 1)[0].lower()
    parts = host.rsplit(".", 2)
    return parts[-2] if len(parts) >= 2 else (solution or "other")
