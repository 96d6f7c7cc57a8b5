"""The outbound client's shortcuts through httpx's own layer give httpx's results.

Two shortcuts are compared with what httpx does itself: the merge of the client's headers
with a request's (``CookielessClient._merge_headers`` against httpx's
``BaseClient._merge_headers`` on the same client), and the reading of a response body the
pool received whole (``JsonResponse.aread`` against the response httpx builds and reads
from the same answer, over real loopback sockets).
"""

from __future__ import annotations

import gc
import gzip
import json
import weakref
import zlib
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.outbound import JsonResponse, PooledTransport
from hybrid_calendar.outbound.client import CookielessClient, outbound_client
from hybrid_calendar.outbound.connection import Answer
from tests.core.outbound_server import Received, response, scripted_server

NAMES = ["Accept", "accept", "ACCEPT", "User-Agent", "Authorization", "Accept-Encoding",
         "Connection", "X-Goog-Api-Client", "If-Match", "content-type", "X-Dup"]
VALUES = st.one_of(st.text(alphabet="abc XYZ/=;*-_0123456789\"", max_size=12),
                   st.text(alphabet="aé\xff✓", max_size=4).map(lambda t: t.encode("utf-8")))
FIELDS = st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=6)
"""Header fields, values in ASCII text or as raw bytes (UTF-8, Latin-1 alike)."""


def _as(kind: str, fields: list[tuple[str, Any]]) -> Any:
    if kind == "pairs":
        return fields
    if kind == "dict":
        return dict(fields)
    if kind == "headers":
        return httpx.Headers(fields)
    return None


@settings(max_examples=300, deadline=None)
@given(client_fields=FIELDS, request_fields=FIELDS,
       kind=st.sampled_from(["pairs", "dict", "headers", "none"]))
def test_the_header_merge_equals_httpx(client_fields: list[tuple[str, Any]],
                                       request_fields: list[tuple[str, Any]],
                                       kind: str) -> None:
    client = CookielessClient(headers=client_fields or None, transport=PooledTransport())
    given_headers = _as(kind, request_fields)
    ours = client._merge_headers(given_headers)
    theirs = httpx.AsyncClient._merge_headers(client, given_headers)
    assert isinstance(ours, httpx.Headers) and isinstance(theirs, httpx.Headers)
    assert ours.raw == theirs.raw
    # what a request keeps is a copy (httpx's merged object caches an encoding found
    # before the request's fields were added; the copy finds it anew, as ours does)
    assert httpx.Headers(ours).multi_items() == httpx.Headers(theirs).multi_items()


def test_the_gateway_requests_merge_as_httpx_merges_them() -> None:
    client = outbound_client()
    for given_headers in (
            httpx.Headers({"Authorization": "Bearer ya29.a0", "Accept": "application/json",
                           "User-Agent": "hybrid-calendar/1 (gzip)",
                           "Accept-Encoding": "gzip"}),
            {"Accept": "application/json"}, {"If-Match": '"etag"'}, None,
            [("x-b", "1"), ("X-B", "2")]):
        ours = client._merge_headers(given_headers)
        theirs = httpx.AsyncClient._merge_headers(client, given_headers)
        assert isinstance(ours, httpx.Headers) and isinstance(theirs, httpx.Headers)
        assert ours.raw == theirs.raw
        request = client.build_request("POST", "https://h.example/p", json={"a": 1},
                                       headers=given_headers)
        stock = httpx.AsyncClient.build_request(client, "POST", "https://h.example/p",
                                                json={"a": 1}, headers=given_headers)
        assert request.headers.raw == stock.headers.raw
        assert (request.url, request.content) == (stock.url, stock.content)
    outside_ascii = {"Nämé".encode("latin-1"): b"v"}  # httpx's own merge, and its error
    with pytest.raises(UnicodeEncodeError):
        httpx.AsyncClient._merge_headers(client, outside_ascii)
    with pytest.raises(UnicodeEncodeError):
        client._merge_headers(outside_ascii)


class StockResponses(PooledTransport):
    """The transport as it was: every answer becomes a response httpx builds and reads
    through its own stream machinery."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.answer(request)
        return JsonResponse(answer.status, headers=answer.headers,
                            stream=httpx.ByteStream(answer.body),
                            extensions={"http_version": b"HTTP/1.1",
                                        "reason_phrase": answer.reason})


def _state(r: httpx.Response) -> dict[str, Any]:
    return {"status": r.status_code, "headers": r.headers.raw, "content": r.content,
            "text": r.text, "closed": r.is_closed, "consumed": r.is_stream_consumed,
            "downloaded": r.num_bytes_downloaded, "version": r.http_version,
            "reason": r.reason_phrase, "encoding": r.encoding,
            "elapsed": type(r.elapsed), "history": len(r.history),
            "next": None if r.next_request is None else str(r.next_request.url),
            "request": (r.request.method, str(r.request.url))}


PAYLOAD = json.dumps({"items": [{"id": f"e{i}", "summary": "é ✓"} for i in range(40)]}
                     ).encode()
ANSWERS: dict[str, bytes] = {
    "/plain": response(PAYLOAD),
    "/empty": response(b"", headers=("Content-Type: application/json",)),
    "/gzip": response(gzip.compress(PAYLOAD), headers=("Content-Encoding: gzip",)),
    "/deflate": response(zlib.compress(PAYLOAD), headers=("Content-Encoding: deflate",)),
    "/identity": response(PAYLOAD, headers=("Content-Encoding: identity",)),
    "/latin1": response("café".encode("latin-1"),
                        headers=("Content-Type: text/plain; charset=latin-1",)),
    "/chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"4\r\n{\"a\"\r\n5\r\n: 12}\r\n0\r\n\r\n"),
    "/nocontent": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/redirect": b"HTTP/1.1 302 Found\r\nLocation: /plain\r\nContent-Length: 0\r\n\r\n",
    "/error": response(b'{"error": {"code": 404}}', status="404 Not Found"),
    "/dup": response(b"{}", headers=("X-A: 1", "x-a: 2", "Set-Cookie: s=1")),
}


async def _answer(request: Received) -> bytes:
    return ANSWERS[request.target.split("?")[0]]


@pytest.mark.anyio
@pytest.mark.parametrize("path", sorted(ANSWERS))
@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
async def test_responses_read_as_httpx_reads_them(path: str, method: str) -> None:
    async with scripted_server(_answer) as server, outbound_client() as ours, CookielessClient(
            transport=StockResponses()) as stock:
        new = await ours.request(method, server.url + path, json={"a": 1})
        old = await stock.request(method, server.url + path, json={"a": 1})
        assert _state(new) == _state(old)
        if new.content and path != "/latin1":
            assert new.json() == old.json()
        for response_ in (new, old):  # read once more: the stored content
            assert await response_.aread() == old.content
            with pytest.raises(httpx.StreamConsumed):
                [part async for part in response_.aiter_raw()]
        follow = await ours.get(server.url + path, follow_redirects=True)
        stock_follow = await stock.get(server.url + path, follow_redirects=True)
        assert _state(follow) == _state(stock_follow)


@pytest.mark.anyio
async def test_streamed_responses_and_event_hooks_take_httpx_path() -> None:
    seen: list[bytes] = []

    async def read_in_hook(r: httpx.Response) -> None:
        seen.append(await r.aread())

    async with scripted_server(_answer) as server, outbound_client() as client:
        async with client.stream("GET", server.url + "/plain") as streamed:
            parts = [part async for part in streamed.aiter_bytes(chunk_size=100)]
        assert b"".join(parts) == PAYLOAD and streamed.is_closed
        client.event_hooks["response"] = [read_in_hook]
        hooked = await client.get(server.url + "/gzip")
    assert seen == [PAYLOAD] and hooked.content == PAYLOAD


def test_a_response_built_from_an_answer_has_httpx_headers() -> None:
    from hybrid_calendar.outbound.transport import response_of

    fields = [(b"Content-Type", b"application/json"), (b"X-A", b"1"), (b"x-a", b"\xe9")]
    built = response_of(Answer(200, b"OK", fields, b"{}", True))
    assert built.headers.raw == httpx.Headers(fields).raw
    assert built.headers.multi_items() == httpx.Headers(fields).multi_items()
    assert built.headers.encoding == httpx.Headers(fields).encoding


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/plain", "/gzip", "/nocontent", "/error", "/redirect"])
async def test_a_read_response_is_freed_without_the_cyclic_collector(path: str) -> None:
    """httpx binds each response's stream to the response (a reference cycle); once the
    body is read the gateway's responses let go of that binding, so a response, with
    its request, headers and URL, goes as soon as its last reference does, not at the
    collector's next pass (which pauses the event loop to free them)."""
    async with scripted_server(_answer) as server, outbound_client() as client:
        await client.get(server.url + "/plain")  # the connection is open: nothing lazy
        gc.collect()
        gc.disable()
        try:
            answered = await client.get(server.url + path, follow_redirects=True)
            freed = weakref.ref(answered)
            history = [weakref.ref(earlier) for earlier in answered.history]
            assert answered.is_closed and answered.content == ANSWERS_READ[path]
            del answered
            assert freed() is None
            assert [earlier() for earlier in history] == [None] * len(history)
        finally:
            gc.enable()


ANSWERS_READ = {"/plain": PAYLOAD, "/gzip": PAYLOAD, "/nocontent": b"",
                "/error": b'{"error": {"code": 404}}', "/redirect": PAYLOAD}
"""What each of the paths above reads (the redirect followed to ``/plain``)."""
