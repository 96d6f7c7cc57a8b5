"""httpx's transport interface over the outbound HTTP/1.1 pool, and JSON decoded by orjson.

Plugins keep using the ``httpx.AsyncClient`` the gateway hands them
(:meth:`hybrid_calendar.gateway.Gateway.http_client`); only what sits under it changes:
:class:`PooledTransport` replaces httpcore with :class:`~.pool.ConnectionPool`, and its
responses are :class:`JsonResponse`, whose :meth:`~JsonResponse.json` decodes with
orjson (the figures behind both choices are in ``docs/performance.md``).

Pool failures become httpx's own exceptions, so ``except httpx.TransportError`` (or
``httpx.HTTPError``) in a plugin catches them as before:

========================  =============================
pool                      httpx
========================  =============================
``ConnectFailed``         ``httpx.ConnectError``
``ConnectTimedOut``       ``httpx.ConnectTimeout``
``ReadTimedOut``          ``httpx.ReadTimeout``
``WriteTimedOut``         ``httpx.WriteTimeout``
``PoolTimedOut``          ``httpx.PoolTimeout``
``ReadFailed``            ``httpx.ReadError``
``Disconnected``          ``httpx.RemoteProtocolError``
``ProtocolViolation``     ``httpx.RemoteProtocolError``
``InvalidRequest``        ``httpx.LocalProtocolError``
========================  =============================

The response body is read whole before the response is returned (API answers, not
downloads): ``client.stream(...)`` works but does not stream.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson

from hybrid_calendar.outbound.connection import Answer
from hybrid_calendar.outbound.errors import (
    ConnectFailed,
    ConnectTimedOut,
    Disconnected,
    InvalidRequest,
    OutboundError,
    PoolTimedOut,
    ProtocolViolation,
    ReadFailed,
    ReadTimedOut,
    WriteTimedOut,
)
from hybrid_calendar.outbound.pool import ConnectionPool, Timeouts

DEFAULT_PORTS = {"http": 80, "https": 443}

_MAPPED: tuple[tuple[type[OutboundError], type[httpx.TransportError]], ...] = (
    (ConnectTimedOut, httpx.ConnectTimeout),
    (ReadTimedOut, httpx.ReadTimeout),
    (WriteTimedOut, httpx.WriteTimeout),
    (PoolTimedOut, httpx.PoolTimeout),
    (ConnectFailed, httpx.ConnectError),
    (ReadFailed, httpx.ReadError),
    (Disconnected, httpx.RemoteProtocolError),
    (ProtocolViolation, httpx.RemoteProtocolError),
    (InvalidRequest, httpx.LocalProtocolError),
)


class JsonResponse(httpx.Response):
    """An ``httpx.Response`` whose :meth:`json` decodes with orjson.

    The results are the standard library's, with one exception: integers beyond 64 bits
    decode as floats (as in JavaScript; Google's JSON sends int64 values as strings, and
    neither Google nor Webex sends larger numbers). A body orjson refuses (not UTF-8, a
    lone surrogate, ...) is decoded by :func:`json.loads` instead, which raises the same
    ``ValueError`` as before when it is not JSON either.
    """

    _plain_body: tuple[httpx.ByteStream, bytes] | None = None
    """The body's stream as the transport made it and its bytes, when no
    ``Content-Encoding`` applies."""

    async def aread(self) -> bytes:
        """The response content, as httpx reads it. A body the transport received whole
        and without ``Content-Encoding`` is taken as it is, with the state httpx's stream
        iteration leaves (consumed, closed, ``elapsed`` set), skipping its generators.

        Once read, the response lets go of the stream httpx's client bound to it (see
        :func:`_unbind_stream`)."""
        plain = self._plain_body
        if plain is None or hasattr(self, "_content") or self.is_stream_consumed \
                or self.is_closed or getattr(self.stream, "_stream", None) is not plain[0]:
            content = await super().aread()  # httpx wrapped the stream it made (or not yet)
            _unbind_stream(self)
            return content
        body = plain[1]
        self.is_stream_consumed = True
        self._num_bytes_downloaded = len(body)
        await self.aclose()
        self._content = body
        _unbind_stream(self)
        return body

    def json(self, **kwargs: Any) -> Any:
        """The decoded JSON body (keyword arguments go to :func:`json.loads`)."""
        if not kwargs:
            try:
                return orjson.loads(self.content)
            except orjson.JSONDecodeError:
                pass
        return json.loads(self.content, **kwargs)


def _unbind_stream(response: httpx.Response) -> None:
    """Replace a read and closed response's ``BoundAsyncStream`` by the stream it wraps.

    httpx's client wraps every response's stream in a ``BoundAsyncStream`` that refers
    back to the response (to set ``elapsed`` when it closes): a reference cycle, so every
    response, its request, headers and URL (≈ 60 objects) outlived its last use until
    the cyclic collector's next pass freed them, and that pass paused the event loop in
    proportion (docs/performance.md). Once the body is read and the stream closed,
    nothing uses the wrapper any more."""
    stream = response.stream
    inner = getattr(stream, "_stream", None)  # httpx's wrapper, found by its two fields
    if response.is_closed and inner is not None \
            and getattr(stream, "_response", None) is response:
        response.stream = inner


class PooledTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over a :class:`~.pool.ConnectionPool`.

    :param pool: the pool to use (default: a new one sized by ``limits``).
    :param limits: connection limits, as for ``httpx.AsyncClient`` (used when no pool is
        given; ``keepalive_expiry`` defaults to 4 s, under the 5 s idle timeout common to
        servers, so the pool rarely offers a connection the server is closing).
    """

    def __init__(self, pool: ConnectionPool | None = None, *,
                 limits: httpx.Limits | None = None) -> None:
        if pool is None:
            limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=50,
                                            keepalive_expiry=4.0)
            pool = ConnectionPool(
                max_connections=limits.max_connections or 1_000_000,
                max_keepalive=(limits.max_keepalive_connections
                               if limits.max_keepalive_connections is not None
                               else 1_000_000),
                keepalive_expiry=(limits.keepalive_expiry
                                  if limits.keepalive_expiry is not None else 3600.0))
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return its complete response."""
        return response_of(await self.answer(request))

    async def answer(self, request: httpx.Request) -> Answer:
        """Send ``request``; the pool's complete answer.

        :raises httpx.TransportError: (a subclass of) as mapped in the module docstring.
        """
        url = request.url
        scheme = url.scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}",
                                            request=request)
        host = url.host
        port = url.port or DEFAULT_PORTS[scheme]
        headers = request.headers.raw
        try:
            body = request.content
        except httpx.RequestNotRead:  # a streamed body: read it whole, send its length
            body = await request.aread()
            headers = [(k, v) for k, v in headers
                       if k.lower() not in (b"transfer-encoding", b"content-length")]
            headers.append((b"Content-Length", str(len(body)).encode()))
        timeout = request.extensions.get("timeout") or {}
        timeouts = Timeouts(connect=timeout.get("connect"), read=timeout.get("read"),
                            write=timeout.get("write"), pool=timeout.get("pool"))
        method = request.method.encode("ascii")
        try:
            data = self.pool.encode(method, url.raw_path, headers, body)
            return await self.pool.request(method, (scheme, host, port, host), data,
                                           timeouts=timeouts)
        except OutboundError as err:
            for ours, theirs in _MAPPED:
                if isinstance(err, ours):
                    raise theirs(str(err), request=request) from err
            raise httpx.TransportError(str(err), request=request) from err

    async def aclose(self) -> None:
        """Close the pool's connections."""
        await self.pool.aclose()


def response_of(answer: Answer) -> JsonResponse:
    """The httpx response for a pool's answer. Its headers are built as
    ``httpx.Headers(answer.headers)`` builds them (the names and values are bytes
    already, so there is nothing to normalise) and handed over as a ``Headers`` object,
    which ``Response`` only copies."""
    fields = [(name, name.lower(), value) for name, value in answer.headers]
    headers = httpx.Headers()
    headers._list = fields
    stream = httpx.ByteStream(answer.body)
    response = JsonResponse(answer.status, headers=headers, stream=stream,
                            extensions={"http_version": b"HTTP/1.1",
                                        "reason_phrase": answer.reason})
    if not any(name == b"content-encoding" for _, name, _ in fields):
        response._plain_body = (stream, answer.body)
    return response
