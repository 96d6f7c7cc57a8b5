"""Candidate extraction: URLs, SIP URIs and bare SIP addresses in text and HTML.

Every pattern here runs in linear time: character classes without nested quantifiers,
bounded repetition for host names, and look-behinds that let a match start only at a
token boundary, so a hostile 100 kB description cannot make the parser backtrack.
Input longer than :data:`MAX_TEXT` characters is cut (join details sit near the top).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_TEXT = 100_000
"""Characters of a location or description that are inspected."""

_TAG = re.compile(r"<(?:/?[a-zA-Z][a-zA-Z0-9-]{0,30}(?:\s[^<>]*)?/?|![^<>]*)>")
_HREF = re.compile(r"""\bhref\s{0,5}=\s{0,5}(?:"([^"<>]*)"|'([^'<>]*)')""", re.IGNORECASE)
_BREAK = re.compile(r"<(?:br|/p|/div|/li|/tr|p|div|li|tr)\b[^<>]*>", re.IGNORECASE)
_URL = re.compile(
    r"(?:https?://|zoommtg://|zoomus://|msteams:/|discord://)[^\s<>\"'`\[\]{}|\\^]+",
    re.IGNORECASE)
_BARE_URL = re.compile(
    r"(?<![\w.@/:%+=&#~-])(?:[a-z0-9-]{1,63}\.){1,6}[a-z]{2,24}/[^\s<>\"'`\[\]{}|\\^]*",
    re.IGNORECASE)
_SIP_URI = re.compile(r"(?<![\w.+/-])(?:sips?|h323):[^\s<>\"'`,;()\[\]{}]+", re.IGNORECASE)
_ADDRESS = re.compile(
    r"(?<![\w.+%/:=-])([\w+-][\w.+-]{0,63})@((?:[a-z0-9-]{1,63}\.){1,6}[a-z]{2,24}"
    r"|\d{1,3}(?:\.\d{1,3}){3})(?![\w-])",
    re.IGNORECASE)
_TRAILING = ".,;:!?'\"*>)]}»”’"


@dataclass(frozen=True, slots=True)
class Text:
    """A location or description prepared for scanning.

    :ivar plain: the text with HTML tags removed and entities decoded.
    :ivar hrefs: link targets found in ``href`` attributes, in document order.
    """

    plain: str
    hrefs: tuple[str, ...] = ()


def prepare(text: str) -> Text:
    """Strip HTML (keeping ``href`` targets) and decode entities."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    hrefs: tuple[str, ...] = ()
    if "<" in text and ">" in text:
        hrefs = tuple(html.unescape(a or b) for a, b in _HREF.findall(text))
        text = _TAG.sub(" ", _BREAK.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    return Text(plain=text, hrefs=hrefs)


def trim(url: str) -> str:
    """Remove punctuation that ends a sentence rather than the URL."""
    while url and url[-1] in _TRAILING:
        last = url[-1]
        if last == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, str]]:
    """URLs with a scheme, as ``(position, url)``, in order of appearance."""
    found = []
    for match in _URL.finditer(text):
        url = trim(match.group())
        if url:
            found.append((match.start(), url))
    return found


def find_bare_urls(text: str) -> list[tuple[int, str]]:
    """Links written without a scheme (``meet.google.com/abc-defg-hij``), as https URLs."""
    found = []
    for match in _BARE_URL.finditer(text):
        url = trim(match.group())
        if "/" in url:
            found.append((match.start(), "https://" + url))
    return found


def find_sip_uris(text: str) -> list[tuple[int, str]]:
    """``sip:``, ``sips:`` and ``h323:`` URIs, as ``(position, uri)``."""
    return [(m.start(), trim(m.group())) for m in _SIP_URI.finditer(text)]


def find_addresses(text: str) -> list[tuple[int, str, str]]:
    """``user@domain`` tokens (possible SIP video addresses) as ``(position, user, domain)``.

    Whether an address is a video address and not an e-mail address is decided by the
    caller from the domain and the words around it.
    """
    if "@" not in text:
        return []
    found = []
    for match in _ADDRESS.finditer(text):
        user = match.group(1).rstrip(".")
        if user:
            found.append((match.start(), user, match.group(2).lower()))
    return found
