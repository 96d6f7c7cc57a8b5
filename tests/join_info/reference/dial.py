"""Dial strings for SIP video devices, built-in per service and added by admin rules.

Cisco and other SIP room systems join a meeting by dialling an address, not a web link.
:func:`derive_dial` finds one for a join link, in this order:

1. admin rules (``join_info.dial_rules``): ``REGEX => TEMPLATE``; the first regex that
   matches the join URL (``re.search``) produces ``match.expand(TEMPLATE)``, as on-prem
   One-Touch-Join products allow (e.g. ``meet\\.google\\.com/([a-z-]+) => \\1@meet.example.com``);
2. a SIP address printed in the invitation on one of the service's SIP domains
   (``85512345678@zoomcrc.com``, ``23456789012@acme.webex.com``);
3. the service's convention: Webex ``NUMBER@site.webex.com`` or ``name@site.webex.com``
   for a Personal Room, Zoom ``ID.PASSCODE@zoomcrc.com`` / ``ID@zoomcrc.com``, BlueJeans
   ``ID@bjn.vc``, Lifesize ``ID@lifesizecloud.com``, Teams ``VTCID@domain`` where the
   invitation has a "VTC/Video Conference ID" and a video device address on ``domain``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hybrid_calendar.errors import ConfigError

from .catalog import INDEX
from .extract import find_addresses
from .labels import MEETING_NUMBER, PASSCODE, VTC_ID, Colons
from .services import Classified

RULES_KEY = "join_info.dial_rules"

_VIDEO_CONTEXT = re.compile(
    r"\bsips?\b|h\.?323|video[\s-]?(?:system|conferenc|device|address|endpoint|call|bridge)"
    r"|\bvideo\s?:"
    r"|videosystem|vtc|room\s(?:system|device)|tenant\skey|\bdial\b[^\n]{0,16}$"
    r"|videokonferenz|videoger[äa]t|syst[èe]me\svid[ée]o|visioconf[ée]rence"
    r"|vid[ée]oconf[ée]rence|sistema\sde\sv[íi]deo|videoconferencia|videoconfer[êe]ncia"
    r"|sistema\svideo|videosysteem|ビデオ会議|ビデオ\s?システム|视频会议|视频系统|視訊|화상",
    re.IGNORECASE)
_MAIL_CONTEXT = re.compile(
    r"e-?mail|mailto|contact|write\sto|send|questions|support|kontakt|courriel|correo|メール"
    r"|邮件|郵件|메일", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DialRule:
    """An admin rule: a regex on the join URL and a dial-string template."""

    pattern: re.Pattern[str]
    template: str

    def apply(self, url: str) -> str | None:
        """Return the dial string for ``url``, or ``None`` if the rule does not match."""
        found = self.pattern.search(url)
        if found is None:
            return None
        try:
            return found.expand(self.template) or None
        except (re.error, IndexError):
            return None


def parse_rules(lines: Iterable[str]) -> tuple[DialRule, ...]:
    """Parse ``REGEX => TEMPLATE`` lines; a bad line raises :class:`ConfigError`."""
    rules = []
    for index, line in enumerate(lines):
        pattern, arrow, template = str(line).partition("=>")
        if not arrow or not pattern.strip() or not template.strip():
            raise ConfigError(RULES_KEY, f"rule {index + 1} must look like 'REGEX => TEMPLATE'")
        try:
            compiled = re.compile(pattern.strip(), re.IGNORECASE)
        except re.error as err:
            raise ConfigError(RULES_KEY, f"rule {index + 1}: invalid regex: {err}") from None
        rules.append(DialRule(compiled, template.strip()))
    return tuple(rules)


def meeting_number(text: str | Colons) -> str | None:
    """The meeting number printed in an invitation (digits only), if any."""
    found = MEETING_NUMBER.search(text)
    return _digits(found) if found else None


def passcode(text: str | Colons) -> str | None:
    """The passcode printed in an invitation, if any."""
    return PASSCODE.search(text)


def numeric_passcode(text: str | Colons) -> str | None:
    """The first labelled passcode made of digits only (Zoom's numeric passcode)."""
    return next((value for value in PASSCODE.finditer(text) if value.isdigit()), None)


def sip_addresses(text: str) -> list[tuple[int, str, str]]:
    """Addresses in ``text`` that look like SIP video addresses, not e-mail addresses.

    An address counts when its domain belongs to a known service's SIP domains, or when
    its line and the line before (at most 100 characters) mention SIP, H.323, a video
    system or device, or end in "dial ...", and do not talk about mail or support.
    """
    found = []
    for position, user, domain in find_addresses(text):
        if INDEX.sip_service(domain) is not None:
            found.append((position, user, domain))
            continue
        start = max(0, position - 100)
        line = text.rfind("\n", start, position)
        if line >= 0:
            previous = text.rfind("\n", start, line)
            start = previous + 1 if previous >= 0 else start
        window = text[start:position]
        if _VIDEO_CONTEXT.search(window) and not _MAIL_CONTEXT.search(window):
            found.append((position, user, domain))
    return found


class Context:
    """The invitation text a dial string is derived from, scanned at most once per fact."""

    __slots__ = ("_addresses", "_colons", "_number", "_numeric", "_passcode", "_teams",
                 "text")

    _UNSET: object = object()

    def __init__(self, text: str) -> None:
        self.text = text
        self._addresses: list[tuple[int, str, str]] | None = None
        self._colons: Colons | None = None
        self._number: object = Context._UNSET
        self._passcode: object = Context._UNSET
        self._numeric: object = Context._UNSET
        self._teams: object = Context._UNSET

    @property
    def addresses(self) -> list[tuple[int, str, str]]:
        """SIP video addresses in the text (see :func:`sip_addresses`)."""
        if self._addresses is None:
            self._addresses = sip_addresses(self.text)
        return self._addresses

    @property
    def colons(self) -> Colons:
        """The text's colons, for labelled values."""
        if self._colons is None:
            self._colons = Colons(self.text)
        return self._colons

    @property
    def meeting_number(self) -> str | None:
        """The labelled meeting number, digits only."""
        if self._number is Context._UNSET:
            self._number = meeting_number(self.colons)
        return self._number  # type: ignore[return-value]

    @property
    def passcode(self) -> str | None:
        """The labelled passcode."""
        if self._passcode is Context._UNSET:
            self._passcode = passcode(self.colons)
        return self._passcode  # type: ignore[return-value]

    @property
    def numeric_passcode(self) -> str | None:
        """The first all-digit labelled passcode (what SIP dial strings can carry)."""
        if self._numeric is Context._UNSET:
            self._numeric = numeric_passcode(self.colons)
        return self._numeric  # type: ignore[return-value]

    @property
    def teams(self) -> str | None:
        """The Teams video-device dial string (``VTCID@domain``)."""
        if self._teams is Context._UNSET:
            self._teams = teams_dial(self.colons)
        return self._teams  # type: ignore[return-value]


def derive_dial(found: Classified, context: Context, rules: Sequence[DialRule] = (),
                *, meeting_id: str | None = None, code: str | None = None) -> str | None:
    """The dial string for the join link ``found``, using the invitation ``context``."""
    for rule in rules:
        dial = rule.apply(found.url)
        if dial is not None:
            return dial
    service = found.service
    provider = service.provider
    if provider == "teams":
        return context.teams
    for _position, user, domain in context.addresses:
        owner = INDEX.sip_service(domain)
        if owner is not None and owner.provider == provider:
            if domain == "zoomcrc.com" and user.isdigit() and context.numeric_passcode:
                return f"{user}.{context.numeric_passcode}@{domain}"
            return f"{user}@{domain}"
    number = found.meeting_id or meeting_id
    if provider == "webex":
        if number is None:
            number = context.meeting_number
        return f"{number}@{found.host}" if number else None
    if provider == "zoom" and service.key != "zoomgov":
        number = number or context.meeting_number
        if not number:
            return None
        secret = code if code and code.isdigit() else context.numeric_passcode
        return f"{number}.{secret}@zoomcrc.com" if secret else f"{number}@zoomcrc.com"
    if provider == "bluejeans" and number:
        pin = _BLUEJEANS_PASSCODE.search(found.rest)
        return f"{number}.{pin.group(1)}@bjn.vc" if pin else f"{number}@bjn.vc"
    if provider == "lifesize" and number:
        return f"{number}@lifesizecloud.com"
    for _position, user, domain in context.addresses:
        if INDEX.sip_service(domain) is None:
            return f"{user}@{domain}"
    return None


_BLUEJEANS_PASSCODE = re.compile(r"^/\d{6,}/(\d{4,})\b")


def teams_dial(text: str | Colons) -> str | None:
    """``VTCID@domain`` from a Teams invitation's video conferencing device section."""
    found = next(VTC_ID.locate(text), None)
    text = text.text if isinstance(text, Colons) else text
    if found is None:
        return None
    at, value = found
    vtc_id = _digits(value)
    address = None
    for position, user, domain in find_addresses(text):
        if position > at + 200:
            break
        if at - position < 400:
            address = (user, domain)
    if address is None:
        return None
    user, domain = address
    if domain == "m.webex.com":  # Cisco's direct dial: <Video ID>.<tenant key>@m.webex.com
        return f"{vtc_id}.{user}@{domain}"
    return f"{vtc_id}@{domain}"


def sip_dial(uri: str) -> str:
    """A ``sip:``/``sips:``/``h323:`` URI as a dial string (scheme and parameters removed)."""
    _, _, rest = uri.partition(":")
    return rest.split(";", 1)[0].split("?", 1)[0]


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())
