"""Refusing webhook endpoints that point inside the network (SSRF).

An endpoint's host is resolved and every address must be public: loopback, private
(RFC 1918, ULA), link-local (incl. cloud metadata 169.254.169.254 and fd00:ec2::254),
carrier-grade NAT, multicast, reserved, unspecified and documentation ranges are refused,
including when embedded in IPv6 (IPv4-mapped, 6to4, NAT64, Teredo). Literal forms a
resolver accepts (decimal ``2130706433``, hex ``0x7f000001``, octal, short ``127.1``) are
caught because the check runs on what the resolver returns. The request then goes to the
checked address itself (no second lookup to rebind), and redirects are never followed.

An administrator may allow one named host per endpoint (``allow_host``): that exact host
name may then resolve to any address (e.g. a receiver on the same private network).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("192.0.0.192")}


class RefusedEndpoint(Exception):
    """An endpoint URL that must not be called; the message says why (no secrets)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked endpoint: where to connect and what to call it."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why an address may not be called, or None when it is public."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal(inner)
            return f"an IPv6 form of {reason}" if reason else None
    for test, reason in (("is_loopback", "a loopback address"),
                         ("is_link_local", "a link-local address"),
                         ("is_multicast", "a multicast address"),
                         ("is_unspecified", "an unspecified address"),
                         ("is_private", "a private address"),
                         ("is_reserved", "a reserved address")):
        if getattr(address, test):
            return reason
    return None if address.is_global else "a non-public address"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (literal forms included)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise RefusedEndpoint(f"host does not resolve ({err.strerror or err})") from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        found.append(ipaddress.ip_address(text))
    if not found:
        raise RefusedEndpoint("host does not resolve")
    return found


def parse_endpoint(url: str, *, allow_http: bool) -> tuple[str, str, int, str]:
    """Scheme, host, port and path+query of an endpoint URL; refuse malformed ones."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise RefusedEndpoint(f"not a valid URL ({err})") from None
    if parts.scheme not in (("https", "http") if allow_http else ("https",)):
        raise RefusedEndpoint("the endpoint must be an https:// URL")
    if not parts.hostname or parts.username or parts.password:
        raise RefusedEndpoint("the URL needs a host and no user:password")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname.replace("%25", "%").split("%", 1)[0]  # drop an IPv6 zone id
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


async def check_endpoint(url: str, *, allow_host: str | None = None,
                         allow_http: bool = False) -> Target:
    """Resolve and check an endpoint; raise :class:`RefusedEndpoint` with the reason."""
    scheme, host, port, path = parse_endpoint(url, allow_http=allow_http)
    addresses = await resolve(host, port)
    allowed = allow_host is not None and host.lower().rstrip(".") == \
        allow_host.lower().rstrip(".")
    if not allowed:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise RefusedEndpoint(f"{host} resolves to {reason}; an administrator can "
                                      "allow this host explicitly (allow_host)")
    return Target(scheme, host, port, str(addresses[0]), path)
