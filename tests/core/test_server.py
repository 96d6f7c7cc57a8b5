"""`hybrid-calendar serve` as a real process: TLS listener, readiness, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trustme

from hybrid_calendar.listening import ServerNotAnsweringError, wait_until_answering


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])



def start(config: Path, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
    return subprocess.Popen([sys.executable, "-m", "hybrid_calendar.cli", "serve", "--config",
                             str(config)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_ready(client: httpx.Client, url: str, process: subprocess.Popen[str],
               verify: ssl.SSLContext) -> httpx.Response:
    """Wait (through the project's one wait loop) until ``url`` answers 200, then GET it."""
    try:
        wait_until_answering(url, within=30, status=200, verify=verify,
                             alive=lambda: process.poll() is None)
    except ServerNotAnsweringError as err:
        output = process.communicate()[0] if process.poll() is not None else ""
        raise AssertionError(f"server not ready: {err}\n{output}") from err
    return client.get(url)


def test_serves_https_and_stops_cleanly_on_sigterm(tmp_path: Path,
                                                    tls_files: tuple[Path, Path, trustme.CA]
                                                    ) -> None:
    chain, key, ca = tls_files
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[gateway]
port = {port}
data_dir = "{tmp_path / 'data'}"
tls_certificate = "{chain}"
tls_private_key = "{key}"
[plugins]
enabled = ["join_info", "kms_local"]
""")
    process = start(config, tmp_path)
    try:
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        with httpx.Client(verify=trusting, timeout=5) as client:
            ready = wait_ready(client, f"https://127.0.0.1:{port}/readyz", process, trusting)
            assert ready.json()["ready"] is True
            health = client.get(f"https://127.0.0.1:{port}/healthz")
            assert health.json() == {"status": "ok"} and health.headers["x-request-id"]
            missing = client.get(f"https://127.0.0.1:{port}/nope",
                                 headers={"X-Request-ID": "trace-1"})
            assert missing.status_code == 404
            assert missing.json()["error"]["request_id"] == "trace-1"
        with pytest.raises(httpx.ConnectError), httpx.Client(timeout=5) as untrusting:
            untrusting.get(f"https://127.0.0.1:{port}/healthz")  # outbound verification on
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit by SIGTERM)
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
        output, _ = process.communicate()
    assert "Traceback" not in output
    assert "gateway stopped cleanly" in output


def test_tls_needs_both_files(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\ntls_certificate = "x.pem"\n[plugins]\nenabled = []\n')
    process = start(config, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "gateway.tls_private_key: TLS needs both" in output
