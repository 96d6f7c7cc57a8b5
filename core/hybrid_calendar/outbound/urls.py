"""``httpx.URL`` objects for already-normalised URLs, without httpx's character walk.

httpx parses every URL string in Python: it checks each character for control codes in a
generator (``any(... for char in url)``) and percent-quotes path and query segment by
segment, ≈ 80 µs for a 180-character Calendar ``events.list`` URL on the build machine
(``docs/performance.md``). The gateway's own requests are built from encoded parts
(discovery paths, ``urlencode``-d queries), so they are already in the form httpx would
produce. :func:`plain_url` recognises exactly that form with one regular expression and
builds the same ``httpx.URL`` directly; anything else (upper-case scheme or host,
user info, fragment, ``.`` segments, characters httpx would quote, IDNA hosts, a missing
path) returns ``None`` and the caller lets httpx parse it.

The scheme, host and port are normalised by httpx itself, once per distinct authority
(remembered for up to :data:`MAX_AUTHORITIES`). Building the URL sets httpx's private
``_uri_reference``; :data:`AVAILABLE` is false, and every URL goes through httpx, if the
installed httpx does not build a sample URL identically this way.
"""

from __future__ import annotations

import re

import httpx

MAX_AUTHORITIES = 256
"""Distinct ``scheme://host:port`` prefixes remembered (cleared when full)."""

_PLAIN = re.compile(
    r"(https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?)"  # scheme://host[:port]
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)"  # path: unreserved, sub-delims, ":@/%"
    r"(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*))?")  # query: the same and "?"
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")
MAX_LENGTH = 65_536
"""httpx's own limit; longer URLs take httpx's path (which refuses them)."""

_authorities: dict[str, tuple[str, str, int | None]] = {}


def plain_url(url: str) -> httpx.URL | None:
    """The ``httpx.URL`` httpx would parse ``url`` into, or ``None`` when ``url`` is not
    in the plain normalised form this shortcut covers."""
    if not AVAILABLE or len(url) > MAX_LENGTH:
        return None
    match = _PLAIN.fullmatch(url)
    if match is None:
        return None
    authority, path, query = match.groups()
    if "/." in path and _DOT_SEGMENT.search(path):
        return None
    parts = _authorities.get(authority)
    if parts is None:
        parts = _authority(authority)
        if parts is None:
            return None
    return _url(parts, path, query)


def _authority(authority: str) -> tuple[str, str, int | None] | None:
    """Scheme, host and port of ``authority`` as httpx normalises them (remembered)."""
    try:
        parsed = httpx.URL(authority + "/")
    except httpx.InvalidURL:
        return None
    reference = parsed._uri_reference  # the encoded host (.host decodes IDNA)
    parts = (reference.scheme, reference.host, reference.port)
    if len(_authorities) >= MAX_AUTHORITIES:
        _authorities.clear()
    _authorities[authority] = parts
    return parts


def _url(parts: tuple[str, str, int | None], path: str, query: str | None) -> httpx.URL:
    scheme, host, port = parts
    url = httpx.URL.__new__(httpx.URL)
    url._uri_reference = _ParseResult(scheme, "", host, port, path, query, None)
    return url


def _available() -> bool:
    """Whether the shortcut builds sample URLs exactly as httpx parses them."""
    samples = ("http://127.0.0.1:8080/calendar/v3/calendars/a%40b.example/events"
               "?singleEvents=true&timeMin=2026-12-01T00%3A00%3A00Z&maxResults=2500",
               "https://www.googleapis.com/calendar/v3/users/me?a=b:c@d/e?f",
               "https://webexapis.com/v1/meetings", "https://h.example:443/x?",
               "http://xn--bcher-kva.example/")
    try:
        for sample in samples:
            match = _PLAIN.fullmatch(sample)
            if match is None:
                return False
            authority, path, query = match.groups()
            parts = _authority(authority)
            if parts is None:
                return False
            built = _url(parts, path, query)
            stock = httpx.URL(sample)
            if built._uri_reference != stock._uri_reference or str(built) != str(stock):
                return False
        _authorities.clear()
    except Exception:  # any change inside httpx disables the shortcut
        return False
    return True


try:
    from httpx._urlparse import ParseResult as _ParseResult
except ImportError:  # pragma: no cover - another httpx layout
    AVAILABLE = False
else:
    AVAILABLE = _available()
"""Whether :func:`plain_url` builds URLs (false: the installed httpx differs inside)."""
