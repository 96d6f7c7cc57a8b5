"""The service model and URL classification: which meeting service a link belongs to.

A :class:`Service` says which hosts a service lives on, which paths on those hosts are
*join* links (as opposed to help, download or marketing pages) and how to pull a meeting
id out of a link. The table itself is in :mod:`hybrid_calendar.join_info.catalog`.

Classification is a dictionary lookup on the host and its parent domains followed by
one anchored regular expression on the path, so it costs the same for any text length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
"""Longer candidate URLs are cut to this length before they are classified."""

NON_JOIN_LABELS = frozenset({
    "support", "help", "docs", "doc", "community", "blog", "status", "developer",
    "developers", "marketplace", "learn", "explore", "investors", "careers", "news",
    "download", "downloads", "www-support", "training", "academy", "trust", "privacy",
})
"""A host whose first label is one of these never carries a join link (help.webex.com)."""

NON_JOIN_SEGMENTS = frozenset({
    "download", "downloads", "support", "help", "pricing", "privacy", "terms", "legal",
    "features", "solutions", "blog", "about", "signup", "sign-up", "signin", "sign-in",
    "login", "logout", "install", "apps", "products", "product", "contact", "careers",
    "faq", "resources", "plans", "trial", "free-trial", "security", "accessibility",
    "en-us", "de-de", "fr-fr", "ja-jp", "information", "settings", "account", "profile",
    "test", "meetingoptions", "meeting-options", "unsubscribe", "zoomconference",
    "globalcallin.php", "static", "assets",
})
"""A first path segment that marks a help, download or marketing page on any service."""


@dataclass(frozen=True, slots=True)
class Service:
    """One meeting service (or one distinct link family of it) in the detection table.

    :ivar key: unique table key, e.g. ``zoomgov``.
    :ivar name: human name, e.g. ``"ZoomGov"``.
    :ivar provider: the lower-case provider id reported in :class:`JoinInfo`
        (``zoom`` for ZoomGov, vanity and native links).
    :ivar hosts: host names; a plain entry also matches every sub-domain
        (``zoom.us`` matches ``us02web.zoom.us``), an entry starting with ``=`` matches
        only that exact host.
    :ivar path: anchored regex a join link's path (plus ``?query`` and ``#fragment``)
        must match; ``None`` accepts any non-empty path.
    :ivar exclude: regex on the same string that rejects help or settings pages.
    :ivar meeting_id: regex whose group ``id`` is the meeting id (searched in the same
        string).
    :ivar schemes: URL schemes accepted besides ``https``/``http``.
    :ivar host_prefixes: for self-hosted products: first host labels (``meet``) accepted
        on any domain when no other service claims the host.
    :ivar sip_domains: SIP domains of the service; a SIP address on one of them is
        reported as this service (``site.webex.com``).
    :ivar weak: a link that is only sometimes a meeting (YouTube); any other service's
        link in the same place is preferred.
    :ivar subdomain_required: the bare domain is marketing; only tenants' sub-domains
        carry rooms (``company.clickmeeting.com``).
    """

    key: str
    name: str
    provider: str
    hosts: tuple[str, ...]
    path: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    meeting_id: re.Pattern[str] | None = None
    schemes: tuple[str, ...] = ()
    host_prefixes: tuple[str, ...] = ()
    sip_domains: tuple[str, ...] = ()
    weak: bool = False
    subdomain_required: bool = False


@dataclass(frozen=True, slots=True)
class Classified:
    """A URL recognised as a join link of a service."""

    service: Service
    url: str
    host: str
    rest: str
    """Path, query and fragment: what ``Service.path`` was matched against."""
    meeting_id: str | None


def svc(key: str, name: str, hosts: str | Iterable[str], path: str | None = None, *,
        provider: str | None = None, exclude: str | None = None,
        meeting_id: str | None = None, **flags: object) -> Service:
    """Build a :class:`Service` from strings (the catalog's shorthand)."""
    return Service(
        key=key, name=name, provider=provider or key,
        hosts=(hosts,) if isinstance(hosts, str) else tuple(hosts),
        path=re.compile(path, re.IGNORECASE) if path else None,
        exclude=re.compile(exclude, re.IGNORECASE) if exclude else None,
        meeting_id=re.compile(meeting_id, re.IGNORECASE) if meeting_id else None,
        **flags,  # type: ignore[arg-type]
    )


class ServiceIndex:
    """Services indexed by host for constant-time classification of URLs."""

    def __init__(self, services: Iterable[Service]) -> None:
        self.services: tuple[Service, ...] = tuple(services)
        self._exact: dict[str, list[Service]] = {}
        self._suffix: dict[str, list[Service]] = {}
        self._prefix: dict[str, list[Service]] = {}
        self._schemes: dict[str, list[Service]] = {}
        self._sip: dict[str, Service] = {}
        self._sip_sub: dict[str, Service] = {}
        for service in self.services:
            for host in service.hosts:
                if host.startswith("="):
                    self._exact.setdefault(host[1:], []).append(service)
                else:
                    self._suffix.setdefault(host, []).append(service)
            for prefix in service.host_prefixes:
                self._prefix.setdefault(prefix, []).append(service)
            for scheme in service.schemes:
                self._schemes.setdefault(scheme, []).append(service)
            for domain in service.sip_domains:
                if domain.startswith("."):
                    self._sip_sub.setdefault(domain[1:], service)
                else:
                    self._sip.setdefault(domain, service)

    def by_key(self, key: str) -> Service:
        """Return the service with table key ``key``; raises ``KeyError``."""
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    def candidates(self, host: str) -> list[Service]:
        """Services that may own ``host``: exact, then the nearest parent domain."""
        found = list(self._exact.get(host, ()))
        if not found and host.startswith("www."):
            found = list(self._exact.get(host[4:], ()))
        name = host
        while True:
            services = self._suffix.get(name)
            if services is not None:
                www = host.startswith("www.")
                found.extend(s for s in services if not s.subdomain_required
                             or (name != host and not www))
                break
            dot = name.find(".")
            if dot < 0:
                break
            name = name[dot + 1:]
        return found

    def classify(self, url: str) -> Classified | None:
        """Return the service whose join link ``url`` is, or ``None``."""
        if len(url) > MAX_URL_LENGTH:
            url = url[:MAX_URL_LENGTH]
        fast = _split_http(url)
        if fast is not None:
            host, rest = fast
            return self._classify_http(url, host, rest)
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            return self._classify_scheme(scheme, url, parts, host)
        return self._classify_http(url, host, _rest(parts))

    def _classify_http(self, url: str, host: str, rest: str) -> Classified | None:
        if not host or host.split(".", 1)[0] in NON_JOIN_LABELS:
            return None
        if _first_segment(rest) in NON_JOIN_SEGMENTS:
            return None
        for service in self.candidates(host):
            found = _match(service, url, host, rest)
            if found is not None:
                return found
        label = host.split(".", 1)[0]
        for service in self._prefix.get(label, ()):
            found = _match(service, url, host, rest)
            if found is not None:
                return found
        return None

    def _classify_scheme(self, scheme: str, url: str, parts: SplitResult,
                         host: str) -> Classified | None:
        for service in self._schemes.get(scheme, ()):
            rest = _rest(parts) if host else url[len(scheme) + 1:]
            found = _match(service, url, host, rest)
            if found is not None:
                return found
        return None

    def sip_service(self, domain: str) -> Service | None:
        """The service owning SIP ``domain`` (or a parent domain of it), if any.

        A ``sip_domains`` entry starting with ``.`` matches sub-domains only, so
        ``jo@webex.com`` (an e-mail address) is not a Webex video address.
        """
        domain = name = domain.lower()
        while True:
            service = self._sip.get(name)
            if service is None and name != domain:
                service = self._sip_sub.get(name)
            if service is not None:
                return service
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1:]


def _split_http(url: str) -> tuple[str, str] | None:
    """``(host, rest)`` of a plain ``http(s)://host[:port]/...`` URL, else ``None``."""
    if url[:8].lower() == "https://":
        begin = 8
    elif url[:7].lower() == "http://":
        begin = 7
    else:
        return None
    end = len(url)
    for stop in "/?#":
        index = url.find(stop, begin)
        if 0 <= index < end:
            end = index
    authority = url[begin:end]
    if "@" in authority or "[" in authority or "\\" in authority:
        return None  # userinfo or IPv6: let urlsplit decide
    host = authority.split(":", 1)[0].lower().rstrip(".")
    rest = url[end:]
    if not rest or rest[0] != "/":
        rest = "/" + rest
    return host, rest


def _rest(parts: SplitResult) -> str:
    rest = parts.path or "/"
    if parts.query:
        rest += "?" + parts.query
    if parts.fragment:
        rest += "#" + parts.fragment
    return rest


def _first_segment(rest: str) -> str:
    end = len(rest)
    for stop in "/?#":
        index = rest.find(stop, 1)
        if 0 < index < end:
            end = index
    return rest[1:end].lower()


def _match(service: Service, url: str, host: str, rest: str) -> Classified | None:
    if service.path is not None:
        if service.path.match(rest) is None:
            return None
    elif len(rest) <= 1:
        return None
    if service.exclude is not None and service.exclude.search(rest) is not None:
        return None
    meeting_id = None
    if service.meeting_id is not None:
        found = service.meeting_id.search(rest)
        if found is not None:
            meeting_id = found.group("id")
    return Classified(service=service, url=url, host=host, rest=rest, meeting_id=meeting_id)
