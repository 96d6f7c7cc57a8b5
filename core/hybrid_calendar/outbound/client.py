"""The gateway's shared ``httpx.AsyncClient``: httpx's API over the outbound pool.

:func:`outbound_client` is what :meth:`hybrid_calendar.gateway.Gateway.http_client`
returns. It differs from a default ``httpx.AsyncClient`` in four ways:

* requests go through :class:`~.transport.PooledTransport` (no httpcore, no proxies:
  the gateway connects to Google, Webex and webhook endpoints directly);
* responses decode JSON with orjson (:class:`~.transport.JsonResponse`);
* it keeps no cookies: one client calls Google and Webex on behalf of every user of
  every organisation, and nothing a service sets for one call may ride along on
  another's (it also saves httpx's per-response cookie parsing);
* ``params=`` (a mapping or pairs) for a URL without a query are encoded into the URL
  string before httpx parses it, exactly as httpx would encode them: httpx otherwise
  parses the URL twice (once as given, once with the query merged), and its parser walks
  every character in Python (measured in ``docs/performance.md``);
* a URL string already in httpx's normalised form (as the gateway's own requests are)
  becomes an ``httpx.URL`` without httpx's parser (:func:`~.urls.plain_url`, identical
  result).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import httpx

from hybrid_calendar.outbound.transport import PooledTransport
from hybrid_calendar.outbound.urls import plain_url

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""30 s to read, write or wait for a pooled connection; 10 s to connect."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50,
                              keepalive_expiry=4.0)
"""At most 100 connections open, 50 kept idle, each for 4 s (see :class:`PooledTransport`)."""


class NoCookies(httpx.Cookies):
    """A cookie store that never stores: responses' ``Set-Cookie`` is ignored."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Ignore the response's cookies."""

    def set_cookie_header(self, request: httpx.Request) -> None:
        """Add no ``Cookie`` header."""


class CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps no cookies between requests (per-request
    ``cookies=`` still work) and parses each URL once, or not at all when it is already
    normalised."""

    def build_request(self, method: str, url: httpx.URL | str, *,
                      params: Any = None, **kwargs: Any) -> httpx.Request:
        """As :meth:`httpx.AsyncClient.build_request`; ``params`` (a mapping or a
        sequence of pairs) for a URL without query or fragment are encoded into the URL
        string first."""
        if params and isinstance(params, Mapping | list | tuple) and isinstance(url, str) \
                and "?" not in url and "#" not in url and not self.params:
            url, params = url_with_query(url, params), None
        elif type(url) is str:
            url = plain_url(url) or url
        return super().build_request(method, url, params=params, **kwargs)

    def _merge_headers(self, headers: Any = None) -> Any:
        """httpx's merge of the client's headers with a request's, without its per-name
        look-ups: the client's fields that the request names again are dropped, the
        request's are appended (the same fields in the same order as
        ``Headers.update``). A request naming a field outside ASCII takes httpx's own
        merge, whose result then depends on the headers' encodings."""
        given = httpx.Headers(headers)
        names = {name for _, name, _ in given._list}
        if not all(name.isascii() for name in names):
            return super()._merge_headers(headers)
        merged = httpx.Headers(self._headers)
        if names:
            merged._list = [field for field in merged._list if field[1] not in names]
        merged._list.extend(given._list)
        return merged

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        """Ignored: this client keeps no cookies."""


_NO_COOKIES = NoCookies()


def url_with_query(url: str, params: Mapping[Any, Any] | list[Any] | tuple[Any, ...]
                   ) -> httpx.URL | str:
    """``url`` (without query or fragment) with ``params`` encoded into it, as httpx
    would encode them: an ``httpx.URL`` built without httpx's parser when the result is
    in the plain normalised form (:func:`~.urls.plain_url`), else the string."""
    if params:
        url = url + "?" + _urlencode(_query_items(params))
    return plain_url(url) or url


def _query_items(params: Mapping[Any, Any] | list[Any] | tuple[Any, ...]
                 ) -> list[tuple[str, str]]:
    """``(name, value)`` pairs in the order ``httpx.QueryParams`` gives them: a mapping's
    list or tuple values become one pair each, pairs are grouped by name, ``True`` is
    "true", ``False`` "false" and ``None`` ""."""
    grouped: dict[Any, list[Any]] = {}
    if isinstance(params, Mapping):
        grouped = {k: list(v) if isinstance(v, list | tuple) else [v]
                   for k, v in params.items()}
    else:
        for item in params:
            grouped.setdefault(item[0], []).append(item[1])
    by_name = {str(k): [_text(item) for item in v] for k, v in grouped.items()}
    return [(name, value) for name, values in by_name.items() for value in values]


_UNQUOTED = re.compile(r"[A-Za-z0-9_.\-~]*")
"""What ``quote_plus`` leaves as it is (its always-safe characters)."""


def _urlencode(items: list[tuple[str, str]]) -> str:
    """``urllib.parse.urlencode(items)``, skipping ``quote_plus`` for names and values
    that are already safe (most of them: flags, numbers, ids)."""
    safe = _UNQUOTED.fullmatch
    return "&".join([f"{k if safe(k) else quote_plus(k)}={v if safe(v) else quote_plus(v)}"
                     for k, v in items])


def _text(value: Any) -> str:
    return ("true" if value is True else "false" if value is False
            else "" if value is None else str(value))


def outbound_client(*, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                    limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncClient:
    """A new shared outbound client over a new :class:`PooledTransport`."""
    return CookielessClient(timeout=timeout, transport=PooledTransport(limits=limits))
