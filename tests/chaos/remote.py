"""The harness's side of the emulators' process (:mod:`tests.chaos.emulators`)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.gateway import wait_for


class EmulatorError(RuntimeError):
    """The emulator refused a call (e.g. 404 for an event deleted meanwhile)."""


class Emulators:
    """Start the emulators' process and call its inspection endpoint."""

    def __init__(self, root: Path, domain: str, users: list[str], *, user_rpm: int,
                 project_rpm: int) -> None:
        self.info_file = root / "emulators.json"
        self.info_file.unlink(missing_ok=True)
        self.log = root / "emulators.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.emulators", str(self.info_file),
                 "--domain", domain, "--users", ",".join(users),
                 "--user-rpm", str(user_rpm), "--project-rpm", str(project_rpm)],
                stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
        wait_for(lambda: self.info_file.exists() or self.process.poll() is not None, 60,
                 "the emulators' process")
        if self.process.poll() is not None:
            raise RuntimeError(f"emulators did not start:\n{self.log.read_text()}")
        self.info: dict[str, Any] = json.loads(self.info_file.read_text())
        self.client = httpx.Client(timeout=60)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One call of the inspection endpoint."""
        answer = self.client.post(self.info["rpc_url"], json={
            "call": name, "args": list(args), "kwargs": kwargs})
        body = answer.json()
        if answer.status_code == 409:
            raise EmulatorError(body["error"])
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: {body.get('error')}")
        return body["result"]

    def window(self, email: str, start: datetime, end: datetime) -> dict[str, str]:
        """Event id to etag of ``email``'s live events in ``[start, end)``."""
        return dict(self.call("window", email, start.isoformat(), end.isoformat()))

    def join_blocks(self, email: str) -> dict[str, int]:
        """Event id to join blocks in its description."""
        return dict(self.call("join_blocks", email))

    def webex_duplicates(self) -> dict[str, int]:
        """Join cards and meetings made twice (see the emulators module)."""
        return dict(self.call("webex_duplicates"))

    def quota(self, since: float = 0.0) -> dict[str, Any]:
        """Units the Google emulator charged and calls it refused for quota; the peak
        per user and minute counts charges after ``since`` (``time.monotonic()``)."""
        return dict(self.call("quota", since))

    def control(self, document: dict[str, Any]) -> dict[str, Any]:
        """The Google emulator's fault controls."""
        return dict(self.call("google.control", document))

    def close(self) -> None:
        """Stop the process."""
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
