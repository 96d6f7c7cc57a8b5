"""The gateway's outbound client: httpx's API over the HTTP/1.1 pool, against real sockets."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.outbound import ConnectionPool, JsonResponse, PooledTransport
from hybrid_calendar.outbound.client import outbound_client
from tests.core.outbound_server import CLOSE, HANG, Received, response, scripted_server

pytestmark = pytest.mark.anyio


async def _ok(request: Received) -> bytes:
    return response(json.dumps({"path": request.target, "n": len(request.body)}).encode())


async def test_content_length_bodies_reuse_one_connection() -> None:
    async with scripted_server(_ok) as server, outbound_client() as client:
        first = await client.get(server.url + "/a?x=1")
        second = await client.post(server.url + "/b", json={"k": "v"})
    assert first.json() == {"path": "/a?x=1", "n": 0}
    assert second.json() == {"path": "/b", "n": len(b'{"k":"v"}')}
    assert isinstance(first, JsonResponse) and first.http_version == "HTTP/1.1"
    assert server.connections == 1
    assert server.requests[1].headers["content-type"] == "application/json"


async def test_chunked_body_with_extensions_and_trailers() -> None:
    async def chunked(_: Received) -> bytes:
        return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"4;ext=1\r\n{\"a\"\r\n5\r\n: 12}\r\n0\r\nX-Trailer: t\r\n\r\n")

    async with scripted_server(chunked) as server, outbound_client() as client:
        answers = [await client.get(server.url) for _ in range(2)]
    assert [a.json() for a in answers] == [{"a": 12}, {"a": 12}]
    assert server.connections == 1


async def test_body_delimited_by_close_is_read_and_the_connection_dropped() -> None:
    async def until_close(_: Received) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"

    async with scripted_server(until_close) as server, outbound_client() as client:
        texts = [(await client.get(server.url)).text for _ in range(2)]
    assert texts == ["all of it", "all of it"]
    assert server.connections == 2


async def test_head_204_and_interim_answers_carry_no_body() -> None:
    async def answers(request: Received) -> bytes:
        if request.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"
        if request.target == "/continue":
            return b"HTTP/1.1 100 Continue\r\n\r\n" + response(b'{"done": true}')
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    async with scripted_server(answers) as server, outbound_client() as client:
        head = await client.head(server.url)
        empty = await client.delete(server.url + "/x")
        interim = await client.get(server.url + "/continue")
    assert (head.status_code, head.content) == (200, b"")
    assert (empty.status_code, empty.content) == (204, b"")
    assert interim.json() == {"done": True}
    assert server.connections == 1


async def test_gzip_bodies_are_decoded() -> None:
    payload = json.dumps({"items": list(range(1000))}).encode()

    async def zipped(_: Received) -> bytes:
        return response(gzip.compress(payload), headers=("Content-Encoding: gzip",))

    async with scripted_server(zipped) as server, outbound_client() as client:
        answer = await client.get(server.url, headers={"Accept-Encoding": "gzip"})
    assert answer.json() == {"items": list(range(1000))}


async def test_large_bodies_arrive_whole_and_the_limit_is_enforced() -> None:
    big = b"x" * (12 * 1024 * 1024)

    async def large(_: Received) -> bytes:
        return response(big, headers=())

    async with scripted_server(large) as server:
        async with outbound_client() as client:
            assert (await client.get(server.url)).content == big
        small = httpx.AsyncClient(transport=PooledTransport(ConnectionPool(max_body=1024)))
        async with small:
            with pytest.raises(httpx.RemoteProtocolError, match="exceeds the limit"):
                await small.get(server.url)


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async with scripted_server(_ok) as server, outbound_client() as client:
        server.close_after_answer = True  # as a server whose idle timeout passed
        await client.get(server.url)
        await server.until(lambda: server.open_now == 0)
        assert (await client.get(server.url)).status_code == 200
    assert server.connections == 2


async def test_a_reused_connection_closed_mid_request_resends_only_idempotent_requests(
        ) -> None:
    drop = {"connection": 0}

    async def flaky(request: Received) -> bytes:
        if request.connection == drop["connection"]:
            return CLOSE  # the kept connection closes as the request arrives
        return response()

    async with scripted_server(flaky) as server:
        async with outbound_client() as client:
            await client.get(server.url)
            drop["connection"] = server.connections
            assert (await client.put(server.url + "/again", json={})).status_code == 200
            assert server.connections == 2  # sent once more, on a new connection
        async with outbound_client() as client:
            await client.get(server.url)
            drop["connection"] = server.connections
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(server.url, json={})
    assert server.connections == 3  # the POST was not sent twice
    assert [r.method for r in server.requests] == ["GET", "PUT", "PUT", "GET", "POST"]


async def test_read_timeout() -> None:
    async def never(_: Received) -> None:
        return HANG

    async with scripted_server(never) as server, \
            outbound_client(timeout=httpx.Timeout(5.0, read=0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(server.url)


async def test_refused_connection_is_a_connect_error() -> None:
    async with scripted_server(_ok) as server:
        url = server.url
    async with outbound_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


async def test_connection_limit_and_pool_timeout() -> None:
    release = asyncio.Event()

    async def slow(_: Received) -> bytes:
        await release.wait()
        return response()

    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with scripted_server(slow) as server, \
            outbound_client(limits=limits, timeout=httpx.Timeout(5.0, pool=0.2)) as client:
        waiting = [asyncio.create_task(client.get(server.url)) for _ in range(2)]
        await server.until(lambda: len(server.requests) == 2)
        with pytest.raises(httpx.PoolTimeout):
            await client.get(server.url)
        more = [asyncio.create_task(client.get(server.url)) for _ in range(4)]
        release.set()
        done = await asyncio.gather(*waiting, *more)
    assert [r.status_code for r in done] == [200] * 6
    assert server.most_open == 2


async def test_tls_is_verified() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    async with scripted_server(_ok, tls=server_context) as server:
        async with outbound_client() as client:  # the system's trust store
            with pytest.raises(httpx.ConnectError, match="TLS failed"):
                await client.get(server.url)
        pool = ConnectionPool(ssl_context=trusting)
        async with httpx.AsyncClient(transport=PooledTransport(pool)) as client:
            assert (await client.get(server.url + "/tls")).json()["path"] == "/tls"


async def test_no_cookies_are_kept() -> None:
    async def cookie(_: Received) -> bytes:
        return response(headers=("Set-Cookie: session=abc; Path=/",))

    async with scripted_server(cookie) as server, outbound_client() as client:
        await client.get(server.url)
        await client.get(server.url)
    assert "cookie" not in server.requests[1].headers


async def test_headers_that_would_break_framing_are_refused() -> None:
    async with scripted_server(_ok) as server, outbound_client() as client:
        with pytest.raises(httpx.LocalProtocolError):
            await client.get(server.url, headers={"X-Bad": "a\r\nInjected: yes"})
    assert server.requests == []


async def test_streamed_request_bodies_are_sent_with_a_length() -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    async with scripted_server(_ok) as server, outbound_client() as client:
        answer = await client.post(server.url, content=parts())
    assert answer.json()["n"] == 6
    assert server.requests[0].headers["content-length"] == "6"


def test_json_decoding_matches_the_standard_library() -> None:
    for body in (b'{"a": [1, 2.5, "\\u00e9", null, true]}', b'"\\ud800"',
                 '{"é": 1}'.encode("utf-16"), b"9223372036854775807"):
        assert JsonResponse(200, content=body).json() == json.loads(body)
    with pytest.raises(ValueError):
        JsonResponse(200, content=b"not json").json()


def test_json_integers_beyond_64_bits_decode_as_floats() -> None:
    # the documented difference (Google's JSON sends int64 values as strings)
    big = JsonResponse(200, content=b"123456789012345678901234567890").json()
    assert big == 1.2345678901234568e29 and isinstance(big, float)


@pytest.mark.parametrize("params", [
    {"a": "1", "b": "x y/é&=?", "c": True, "d": False, "e": None, "f": 3, "g": 2.5},
    {"many": ["1", "2"], "tuple": ("x",), "empty": []},
    {"integrationTag": "gcal:abc_20261201", "from": "2026-12-01T00:00:00Z", "max": 10},
    (("b", "1"), ("a", "x y"), ("b", "2"), ("c", True)),
    [("q", None), ("r", 5)],
])
def test_params_are_encoded_as_httpx_encodes_them(params: Any) -> None:
    fast = outbound_client().build_request("GET", "https://h.example/p/a%40b", params=params)
    stock = httpx.AsyncClient().build_request("GET", "https://h.example/p/a%40b",
                                              params=params)
    assert fast.url == stock.url and str(fast.url) == str(stock.url)
    assert fast.url.params == stock.url.params


GATEWAY_URLS = [
    "https://www.googleapis.com/calendar/v3/calendars/alice%40example.com/events"
    "?singleEvents=true&maxResults=2500&timeMin=2026-11-23T00%3A00%3A00Z"
    "&timeMax=2026-12-31T00%3A00%3A00Z&pageToken=CigKGjRv_x-y~z&alt=json",
    "http://127.0.0.1:8123/calendar/v3/calendars/user00001%40example.com/events/e1?alt=json",
    "https://gmail.googleapis.com/gmail/v1/users/me/settings/vacation",
    "https://webexapis.com/v1/meetings?integrationTag=gcal%3Aabc_20261201&max=10",
    "https://oauth2.googleapis.com:443/token",
    "http://localhost/people/me?",
]
URL_CHARACTERS = "aZ09-._~!$&'()*+,;=:@/%?#[] \t\"<>`{}|\\^éA."


@pytest.mark.parametrize("url", GATEWAY_URLS)
def test_gateway_urls_skip_httpx_parsing_with_the_same_result(url: str) -> None:
    from hybrid_calendar.outbound.urls import plain_url

    built = plain_url(url)
    assert built is not None, "the gateway's own URLs take the shortcut"
    assert built == httpx.URL(url) and str(built) == str(httpx.URL(url))
    assert (built.scheme, built.host, built.port, built.raw_path, built.query) == (
        httpx.URL(url).scheme, httpx.URL(url).host, httpx.URL(url).port,
        httpx.URL(url).raw_path, httpx.URL(url).query)
    request = outbound_client().build_request("GET", url, headers={"A": "b"})
    assert request.url == httpx.AsyncClient().build_request("GET", url).url


@settings(max_examples=600, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
       host=st.sampled_from(["h.example", "127.0.0.1", "H.Example", "999.1.1.1", "a..b",
                             "-x.example", "xn--bcher-kva.example", "bücher.example"]),
       port=st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":"]),
       rest=st.text(alphabet=URL_CHARACTERS, max_size=40))
def test_the_url_shortcut_equals_httpx_or_steps_aside(scheme: str, host: str, port: str,
                                                      rest: str) -> None:
    from hybrid_calendar.outbound.urls import plain_url

    url = f"{scheme}://{host}{port}/{rest}"
    try:
        expected: httpx.URL | None = httpx.URL(url)
    except httpx.InvalidURL:
        expected = None
    built = plain_url(url)
    if built is None:
        return
    assert expected is not None, f"{url!r} is refused by httpx but was built"
    assert built._uri_reference == expected._uri_reference
    assert str(built) == str(expected) and built.raw_path == expected.raw_path


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=6))
def test_query_encoding_equals_urlencode(items: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    from hybrid_calendar.outbound.client import _urlencode

    assert _urlencode(items) == urlencode(items)
    assert _urlencode([("timeMin", "2026-12-01T00:00:00Z"), ("a b", "é/&=+~")]) == \
        urlencode([("timeMin", "2026-12-01T00:00:00Z"), ("a b", "é/&=+~")])
