"""Scheduling keywords in Location: ``@webex``, ``@meet`` and their modifiers.

A keyword is ``@`` + a configured word at the start of Location or after a character
that cannot belong to an e-mail address, optionally followed by ``:modifier``
(``myroom``, ``onetime``, ``space``), and not followed by more of a domain name: so
``jo@webex.com`` and ``@webex.com`` are not keywords. Matching is case-insensitive; the
leftmost configured keyword counts. Each organisation maps keywords to actions in
``join_info.keywords`` (``["webex=personal_room", "meet=space"]`` by default, as Cisco's
service does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hybrid_calendar.config import Config
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.models import KeywordRequest

ACTIONS = ("personal_room", "onetime", "space", "google_meet")
"""Actions a keyword can ask for: a Webex Personal Room, a new one-time Webex meeting,
a Webex space meeting, or a Google Meet conference."""

MODIFIERS = {"myroom": "personal_room", "onetime": "onetime", "space": "space",
             "meet": "google_meet"}
"""Modifier after ``:`` and the action it selects instead of the keyword's default."""

DEFAULT_KEYWORDS = ("webex=personal_room", "meet=space")

_ACTION_ALIASES = {
    "personal_room": "personal_room", "webex personal room": "personal_room",
    "personal room": "personal_room", "myroom": "personal_room", "pmr": "personal_room",
    "onetime": "onetime", "new webex meeting": "onetime", "one-time": "onetime",
    "webex meeting": "onetime", "space": "space", "webex space": "space",
    "google_meet": "google_meet", "google meet": "google_meet", "meet": "google_meet",
}
_TOKEN = re.compile(r"(?<![\w.+%&'-])@([A-Za-z][\w-]{0,31})(?::([A-Za-z]{1,16}))?",
                    re.ASCII)


@dataclass(frozen=True, slots=True)
class KeywordConfig:
    """An organisation's keywords: word (lower-case, no ``@``) to default action."""

    actions: Mapping[str, str] = field(default_factory=lambda: {
        "webex": "personal_room", "meet": "space"})

    @classmethod
    def parse(cls, entries: Iterable[str]) -> KeywordConfig:
        """Build from ``keyword=action`` strings; raises :class:`ConfigError` when invalid."""
        actions: dict[str, str] = {}
        for entry in entries:
            word, equals, action = str(entry).partition("=")
            word = word.strip().lstrip("@").lower()
            resolved = _ACTION_ALIASES.get(action.strip().lower())
            if not equals or not re.fullmatch(r"[a-z][\w-]{0,31}", word, re.ASCII):
                raise ConfigError("join_info.keywords",
                                  f"{entry!r} must look like 'keyword=action'")
            if resolved is None:
                raise ConfigError("join_info.keywords",
                                  f"unknown action in {entry!r}; use one of "
                                  + ", ".join(ACTIONS))
            actions[word] = resolved
        return cls(actions=actions)


DEFAULT_CONFIG = KeywordConfig()


def find_keyword(location: str, config: KeywordConfig = DEFAULT_CONFIG
                 ) -> KeywordRequest | None:
    """The leftmost configured keyword in ``location``, with its resolved action."""
    if "@" not in location:
        return None
    for match in _TOKEN.finditer(location[:4096]):
        end = match.end()
        following = location[end:end + 2]
        first = following[:1]
        if first and (first.isalnum() or first in "_@" or (
                first in ".-" and following[1:2].isalnum())):
            continue  # part of a domain (@webex.com) or a longer word
        word = match.group(1).lower()
        action = config.actions.get(word)
        if action is None:
            continue
        modifier = match.group(2).lower() if match.group(2) else None
        if modifier is not None:
            action = MODIFIERS.get(modifier, action)
        return KeywordRequest(keyword=word, action=action, modifier=modifier,
                              raw=match.group())
    return None


def replace_keyword(location: str, request: KeywordRequest, replacement: str) -> str:
    """``location`` with the keyword token (its first occurrence) replaced."""
    index = location.find(request.raw)
    if index < 0:
        index = location.lower().find(request.raw.lower())
    if index < 0:
        return location
    return location[:index] + replacement + location[index + len(request.raw):]


def keyword_config(config: Config, org_settings: Mapping[str, object] | None = None
                   ) -> KeywordConfig:
    """The keyword configuration in effect for an organisation.

    ``org_settings["keywords"]`` (a list of ``keyword=action`` strings or a mapping of
    keyword to action) overrides the gateway-wide ``join_info.keywords`` setting.

    :param config: the gateway's :class:`~hybrid_calendar.config.Config`.
    :param org_settings: the organisation's settings.
    """
    override = (org_settings or {}).get("keywords")
    if isinstance(override, Mapping):
        return KeywordConfig.parse(f"{k}={v}" for k, v in override.items())
    if isinstance(override, list | tuple):
        return KeywordConfig.parse(str(item) for item in override)
    entries = config.section("join_info").get("keywords")
    if not entries:
        return DEFAULT_CONFIG
    return KeywordConfig.parse(entries)
