"""Candidate extraction: URLs, SIP URIs and bare SIP addresses in text and HTML.

Every pattern here runs in linear time: character classes without nested quantifiers,
bounded repetition for host names, and look-behinds that let a match start only at a
token boundary, so a hostile 100 kB description cannot make the parser backtrack.
Input longer than :data:`MAX_TEXT` characters is cut (join details sit near the top).
"""

from __future__ import annotations

import binascii
import html
import re
from typing import NamedTuple

MAX_TEXT = 100_000
"""Characters of a location or description that are inspected."""

_TAG = re.compile(r"<(?:/?[a-zA-Z][a-zA-Z0-9-]{0,30}(?:\s[^<>]*)?/?|![^<>]*)>")
_INLINE = re.compile(r"</?(?:wbr|span|font|b|i|u|em|strong|small|s|o:p)\b[^<>]*>",
                     re.IGNORECASE)
"""Tags inside words or links (Outlook breaks long URLs with ``<wbr>``): removed."""
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u00ad\ufeff"))
_MARKUP = re.compile(
    r"<(?:(?i:(?:br|/p|/div|/li|/tr|p|div|li|tr)\b[^<>]*)"
    r"|(?i:/?(?:wbr|span|font|b|i|u|em|strong|small|s|o:p)\b[^<>]*)"
    r"|/?[a-zA-Z][a-zA-Z0-9-]{0,30}(?:\s[^<>]*)?/?|![^<>]*)>")
"""Anything :data:`_BREAK`, :data:`_INLINE` or :data:`_TAG` matches (the three after
their common ``<``): text without it (``<https://...>`` links only) skips them."""
_HREF = re.compile(r"""href\s{0,5}=\s{0,5}(?:"([^"<>]*)"|'([^'<>]*)')""")
_HREF_ANY_CASE = re.compile(_HREF.pattern, re.IGNORECASE)
_BREAK = re.compile(r"<(?:br|/p|/div|/li|/tr|p|div|li|tr)\b[^<>]*>", re.IGNORECASE)
_TAIL = re.compile(r"[^\s<>\"'`\[\]{}|\\^。，、；！？（）「」『』【】《》＜＞]+")
_SCHEMES = ("https", "http", "zoommtg", "zoomus", "discord")
_SCHEME_URL = re.compile("://(?:" + "|".join(
    f"(?<=(?<![a-zA-Z])(?ai:{scheme})://)" for scheme in _SCHEMES)
    + ")(" + _TAIL.pattern + ")?")
"""``://`` after a known scheme (ASCII letters in any case, not preceded by another letter)
and, in group 1, the link's characters after it (:data:`_TAIL`). The pattern starts with
its literal, so the regex engine skips to each ``://`` as ``str.find`` would."""
_MSTEAMS = re.compile(r"(?<![\w.+/-])msteams:/[^\s<>\"'`\[\]{}|\\^]+")
# read backwards with str.rstrip (in C, not per character in Python), as _USER_CHARS is
_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
_TLD_SLASH = re.compile(r"\.[a-zA-Z]{2,24}/")
_BARE_HOST = re.compile(r"(?:[a-z0-9-]{1,63}\.){1,6}[a-z]{2,24}", re.IGNORECASE)
_NOT_BEFORE_HOST = frozenset(".@/:%+=&#~-_")
_URI_TAIL = re.compile(r"[^\s<>\"'`,;()\[\]{}]+")
_USER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"
_NOT_BEFORE_USER = frozenset("%/:=")
_DOMAIN = re.compile(r"(?:(?:[a-z0-9-]{1,63}\.){1,6}[a-z]{2,24}|\d{1,3}(?:\.\d{1,3}){3})"
                     r"(?![\w-])", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*>)]}»”’。，、；：！？）」』】》＞"
_URL_BLANKS = dict.fromkeys(map(ord, "\t\r\n"))
"""Removed from ``href`` values, as browsers do (WHATWG URL: tab and newline are dropped)."""
_QP_MARK = re.compile(r"=(?:\r?\n|3D|0A|0D|20)")
"""Quoted-printable evidence: a soft line break or an escaped ``=``, line feed or space."""
_MAX_WRAPS = 8
"""Line breaks joined inside one ``<...>``-delimited URL."""


class Text(NamedTuple):
    """A location or description prepared for scanning (a named tuple: two are made per
    event, and a frozen dataclass costs several times as much to build).

    :ivar plain: the text with HTML tags removed and entities decoded.
    :ivar hrefs: link targets found in ``href`` attributes, in document order.
    """

    plain: str
    hrefs: tuple[str, ...] = ()


def prepare(text: str) -> Text:
    """Strip HTML (keeping ``href`` targets) and decode entities."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    if "=" in text:
        text = decode_quoted_printable(text)
    hrefs: tuple[str, ...] = ()
    if "<" in text and ">" in text:
        pattern = _HREF if "href" in text or "HREF" not in text.upper() else _HREF_ANY_CASE
        hrefs = tuple(unescape(a or b).strip().translate(_URL_BLANKS)
                      for a, b in pattern.findall(text))
        if _MARKUP.search(text) is not None:  # else the three substitutions change nothing
            text = _TAG.sub(" ", _INLINE.sub("", _BREAK.sub("\n", text)))
    if "&" in text:
        text = unescape(text)
    if "\u200b" in text or "\u00ad" in text or "\ufeff" in text:
        text = text.translate(_INVISIBLE)
    return Text(text, hrefs)


_COMMON_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"),
                    ("&nbsp;", "\u00a0"))
"""Entities :func:`unescape` replaces with ``str.replace`` (``&amp;`` last, so that
``&amp;lt;`` becomes ``&lt;`` as in ``html.unescape``'s single pass)."""


def unescape(text: str) -> str:
    """``html.unescape(text)``; when every ``&`` starts ``&amp;`` or one of
    :data:`_COMMON_ENTITIES`, by ``str.replace`` (no Python call per entity)."""
    if "&" not in text:
        return text
    amps = text.count("&amp;")
    ampersands = text.count("&")
    if ampersands == amps:  # only "&amp;" (a link's query in an href): no other count
        return text.replace("&amp;", "&")
    counts = [text.count(entity) for entity, _ in _COMMON_ENTITIES]
    if ampersands != amps + sum(counts):
        return html.unescape(text)
    for (entity, char), count in zip(_COMMON_ENTITIES, counts, strict=True):
        if count:
            text = text.replace(entity, char)
    return text.replace("&amp;", "&") if amps else text


def decode_quoted_printable(text: str) -> str:
    """Undo quoted-printable encoding left in text pasted from a raw e-mail.

    Decoded only on clear evidence: three escapes (``=3D``, ``=0A``, ``=0D``, ``=20``) or a
    soft line break (``=`` at the end of a line) and one more escape, so an ordinary
    ``?t=20`` query is left alone. Soft breaks are removed (they split long links).
    """
    first = _QP_MARK.search(text)
    if first is None:
        return text
    second = _QP_MARK.search(text, first.end())
    if second is None:
        return text
    soft = first.group().endswith("\n") or second.group().endswith("\n")
    if not soft and _QP_MARK.search(text, second.end()) is None:
        return text
    try:
        return binascii.a2b_qp(text.encode("utf-8")).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return text


def trim(url: str) -> str:
    """Remove punctuation that ends a sentence rather than the URL."""
    end = len(url)
    opened = closed = -1  # counted once, when the first ")" is met (then kept up to date)
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")":
            if opened < 0:
                opened, closed = url.count("(", 0, end), url.count(")", 0, end)
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    return url[:end]


def find_urls(text: str) -> list[tuple[int, str]]:
    """URLs with a scheme, as ``(position, url)``, in order of appearance.

    One regular expression finds a known scheme (not preceded by a letter) with ``://``
    and the link's characters after it; the search resumes after each link, so a link
    inside another one's characters is not reported twice.
    """
    found: list[tuple[int, str]] = []
    search = _SCHEME_URL.search
    hit = search(text)
    while hit is not None:
        end = tail = hit.end()
        if hit.start(1) >= 0:
            colon = hit.start()
            window = text[max(0, colon - 7):colon]  # the scheme: at most 7 ASCII letters
            start = colon - len(window) + len(window.rstrip(_ASCII_LETTERS))
            tail = colon + 3
            raw = text[start:end]
            if start > 0 and text[start - 1] == "<" and end < len(text) \
                    and text[end] in "\r\n":
                raw, end = _unwrap_lines(text, raw, end)
            url = trim(raw)
            if len(url) > tail - start:  # more than "scheme://"
                found.append((start, url))
        hit = search(text, end)
    if "msteams:/" in text:
        found.extend((m.start(), trim(m.group())) for m in _MSTEAMS.finditer(text))
        found.sort()
    return found


def _unwrap_lines(text: str, raw: str, end: int) -> tuple[str, int]:
    """Join a ``<URL>`` that a mail client wrapped over several lines (RFC 3986, App. C).

    ``raw`` stopped at a line break at ``end``; continuation lines are appended while each
    is one unbroken token, and only if a ``>`` closes the URL, else ``raw`` is kept.
    """
    pieces = [raw]
    pos = end
    for _ in range(_MAX_WRAPS):
        if text.startswith("\r\n", pos):
            pos += 2
        elif pos < len(text) and text[pos] == "\n":
            pos += 1
        else:
            return raw, end
        tail = _TAIL.match(text, pos)
        if tail is None:
            return raw, end
        pieces.append(tail.group())
        pos = tail.end()
        if pos < len(text) and text[pos] == ">":
            return "".join(pieces), pos
    return raw, end


def find_bare_urls(text: str) -> list[tuple[int, str]]:
    """Links written without a scheme (``meet.google.com/abc-defg-hij``), as https URLs.

    Looks only where a top-level domain meets a slash (``.com/``), then reads the host
    backwards: cheap on long text, and bounded per hit.
    """
    found: list[tuple[int, str]] = []
    resume = 0
    for hit in _TLD_SLASH.finditer(text):
        pos = hit.end() - 1
        if pos < resume:
            continue
        scheme = text.rfind("://", max(0, hit.start() - 256), hit.start())
        if scheme >= 0 and not text[scheme + 3:hit.start()].strip(_HOST_CHARS):
            continue  # the host of a link with a scheme: read back, it starts after "/"
        window = text[max(0, pos - 254):hit.start()]  # the host: at most 254 characters
        start = hit.start() - len(window) + len(window.rstrip(_HOST_CHARS))
        host = text[start:pos]
        before = text[start - 1] if start > 0 else " "
        if _BARE_HOST.fullmatch(host) is not None and not (
                before.isalnum() or before in _NOT_BEFORE_HOST):
            tail = _TAIL.match(text, pos)
            resume = tail.end() if tail is not None else pos + 1
            found.append((start, "https://" + trim(text[start:resume])))
    return found


def find_sip_uris(text: str) -> list[tuple[int, str]]:
    """``sip:``, ``sips:`` and ``h323:`` URIs, as ``(position, uri)``."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    found: list[tuple[int, str]] = []
    for scheme in ("sip:", "sips:", "h323:"):
        pos = lowered.find(scheme)
        while pos >= 0:
            before = text[pos - 1] if pos > 0 else " "
            end = pos + len(scheme)
            if not (before.isalnum() or before in "._+/-"):
                tail = _URI_TAIL.match(text, end)
                if tail is not None:
                    end = tail.end()
                    found.append((pos, trim(text[pos:end])))
            pos = lowered.find(scheme, end)
    found.sort()
    return found


def find_addresses(text: str) -> list[tuple[int, str, str]]:
    """``user@domain`` tokens (possible SIP video addresses) as ``(position, user, domain)``.

    Whether an address is a video address and not an e-mail address is decided by the
    caller from the domain and the words around it.
    """
    found: list[tuple[int, str, str]] = []
    at = text.find("@")
    while at >= 0:
        window = text[max(0, at - 64):at]  # the user: at most 64 characters
        start = at - len(window) + len(window.rstrip(_USER_CHARS))
        before = text[start - 1] if start > 0 else " "
        domain = _DOMAIN.match(text, at + 1)
        user = text[start:at].rstrip(".")
        if (domain is not None and user and user[0] not in "." and not (
                before in _USER_CHARS or before in _NOT_BEFORE_USER)):
            found.append((start, user, domain.group().lower()))
        at = text.find("@", at + 1)
    return found
