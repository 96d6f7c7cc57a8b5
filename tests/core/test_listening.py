"""The one wait-until-a-server-answers loop: answers, deadlines, servers that die first."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import trustme

from hybrid_calendar.listening import ServerNotAnsweringError, wait_until_answering


class _Teapot(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(418)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def teapot() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Teapot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_any_http_answer_counts_unless_a_status_is_asked_for(teapot: str) -> None:
    wait_until_answering(teapot, within=5)
    port = teapot.rsplit(":", 1)[1].rstrip("/")
    wait_until_answering(f"tcp://127.0.0.1:{port}", within=5)
    with pytest.raises(ServerNotAnsweringError, match=r"last try: HTTP 418") as caught:
        wait_until_answering(teapot, within=0.1, status=200)
    assert caught.value.address == teapot


def test_nothing_listening_fails_at_the_deadline_naming_the_address() -> None:
    address = f"http://127.0.0.1:{_closed_port()}/healthz"
    with pytest.raises(ServerNotAnsweringError, match=r"no answer within 0.1 s") as caught:
        wait_until_answering(address, within=0.1)
    assert caught.value.address == address and "ConnectError" in str(caught.value)


def test_a_server_that_ended_stops_the_wait_at_once() -> None:
    with pytest.raises(ServerNotAnsweringError, match="ended before answering"):
        wait_until_answering(f"tcp://127.0.0.1:{_closed_port()}", within=60,
                             alive=lambda: False)


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected an http"):
        wait_until_answering("ftp://127.0.0.1:21", within=1)


@pytest.fixture
def tls_teapot(tls_files: tuple[Path, Path, trustme.CA]) -> Iterator[tuple[str, trustme.CA]]:
    """The teapot over HTTPS, with a certificate of a test CA no system trusts."""
    chain, key, ca = tls_files
    server = HTTPServer(("127.0.0.1", 0), _Teapot)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", ca
    finally:
        server.shutdown()
        server.server_close()


def test_https_is_verified_against_the_given_trust(tls_teapot: tuple[str, trustme.CA]) -> None:
    """Plain ``http`` waits skip the trust store; ``https`` ones still check the
    certificate: untrusted by default, answering once its CA is trusted."""
    url, ca = tls_teapot
    with pytest.raises(ServerNotAnsweringError, match="ConnectError"):
        wait_until_answering(url, within=0.5)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    wait_until_answering(url, within=10, verify=trusting)


@pytest.mark.parametrize(("address", "expected"), [
    ("localhost:8080", "error: address: localhost:8080: expected an http(s):// URL or "
                       "tcp://host:port"),
    ("tcp://127.0.0.1:http", "error: address: tcp://127.0.0.1:http: expected an http(s):// "
                             "URL or tcp://host:port"),
])
def test_wait_ready_names_a_malformed_address_in_one_line(
        address: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    from hybrid_calendar.cli import main

    assert main(["wait-ready", address, "--within", "0.1"]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == expected and "Traceback" not in out + err
