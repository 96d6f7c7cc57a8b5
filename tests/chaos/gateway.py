"""One real ``hybrid-calendar serve`` process on a SQLite data directory, for chaos runs.

:class:`ServeProcess` writes the configuration (pointed at the emulators' process),
starts ``serve``, waits for ``/readyz``, and ends it with SIGKILL (no shutdown, no
re-queue, WAL left as it is) or SIGTERM. :class:`StoreReader` reads the database the way
the checks need it, with its own connection and without the gateway's keys: integrity,
committed rows (ids, etags and times are stored in clear), outstanding work.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hybrid_calendar.listening import ServerNotAnsweringError, wait_until_answering
from hybrid_calendar.store.postgres.local_server import free_port
from tests.scaling.processes import toml

ADMIN_TOKEN = "chaos-admin-token-0123456789abcdef"
ORG = "org1"


def gateway_settings(info: dict[str, Any], data_dir: Path, **overrides: dict[str, Any]
                     ) -> dict[str, dict[str, Any]]:
    """The configuration of a gateway against the emulators described by ``info``."""
    settings: dict[str, dict[str, Any]] = {
        "gateway": {"data_dir": str(data_dir), "admin_token": ADMIN_TOKEN,
                    "log_level": "INFO"},
        "plugins": {"enabled": ["google", "join_info", "kms_local", "webex", "people"],
                    "load_entrypoints": False},
        "sync": {"max_concurrency": 4, "sweep_seconds": 1.0, "lease_seconds": 6.0,
                 "retry_base_seconds": 0.2, "retry_cap_seconds": 2.0,
                 "job_max_attempts": 50},
        "notifications": {"poll_seconds": 0.1, "retry_base_seconds": 0.2,
                          "retry_cap_seconds": 2.0},
        "google": {"service_account_json": json.dumps(info["service_account"]),
                   "calendar_base_url": info["google_base_url"] + "/calendar/v3",
                   "gmail_base_url": info["google_base_url"]},
        "webex": {**info["webex"], "webhooks": False},
    }
    for section, values in overrides.items():
        settings.setdefault(section, {}).update(values)
    return settings


@dataclass
class ServeProcess:
    """``hybrid-calendar serve`` on ``data_dir``; restartable, killable."""

    root: Path
    settings: dict[str, dict[str, Any]]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    command_prefix: list[str] = field(default_factory=list)
    """Put before the command (e.g. ``setpriv`` dropping capabilities)."""

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """Everything every start of it logged, appended."""
        return self.root / "serve.log"

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return Path(self.settings["gateway"]["data_dir"]) / "gateway.sqlite3"

    def start(self, *, wait_ready: bool = True, within: float = 60.0) -> None:
        """Start ``serve`` and (by default) wait until ``/readyz`` answers 200."""
        document = {table: dict(values) for table, values in self.settings.items()}
        document["gateway"].update(port=self.port, public_url=self.base_url)
        config = self.root / "gateway.toml"
        config.write_text(toml(document))
        config.chmod(0o644)
        env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
        with self.log.open("ab") as out:
            out.write(f"----- start {self.starts} -----\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [*self.command_prefix, sys.executable, "-m", "hybrid_calendar.cli", "serve",
                 "--config", str(config)],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        if wait_ready:
            self.wait_ready(within)

    def wait_ready(self, within: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200 (raise with the log's tail if it dies)."""
        process = self.process
        assert process is not None
        try:
            wait_until_answering(self.base_url + "/readyz", within=within, status=200,
                                 alive=lambda: process.poll() is None)
        except ServerNotAnsweringError as err:
            raise RuntimeError(f"serve not ready: {err}\n{self.tail()}") from err

    def alive(self) -> bool:
        """Whether the process runs."""
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL and reap."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 30 s."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, lines: int = 40) -> str:
        """The last lines of the log."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def admin(self) -> httpx.Client:
        """An admin API client."""
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """``/readyz`` with admin credentials: status and checks."""
        with self.admin() as client:
            answer = client.get("/readyz")
        return answer.status_code, answer.json()


def onboard(serve: ServeProcess, domain: str, users: list[str]) -> None:
    """Create the organisation and activate ``users`` through the admin API."""
    with serve.admin() as client:
        created = client.post("/api/v1/organisations",
                              json={"id": ORG, "name": "Chaos", "domain": domain})
        assert created.status_code == 201, created.text
        for email in users:
            answer = client.post(f"/api/v1/organisations/{ORG}/users", json={"email": email})
            assert answer.status_code == 202, answer.text


class StoreReader:
    """Reads the gateway's SQLite file with a connection of its own."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def integrity(self) -> str:
        """``PRAGMA integrity_check``'s verdict ("ok" when intact)."""
        conn = self._connect()
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        return "; ".join(str(row[0]) for row in rows)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query."""
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def user_ids(self) -> dict[str, str]:
        """Active users' ids by blind index order (ids only: emails are sealed)."""
        return {row[0]: row[1] for row in self.query("SELECT id, state FROM users")}

    def meetings(self) -> dict[tuple[str, str], tuple[str, float, float]]:
        """(user id, event id) to (etag, start, end) of every stored meeting."""
        return {(row[0], row[1]): (row[2], row[3], row[4]) for row in self.query(
            "SELECT user_id, event_id, etag, start_at, end_at FROM meetings")}

    def outstanding(self, now: float) -> dict[str, int]:
        """Work not done: jobs queued or running, parked jobs, notifications due and
        undelivered."""
        jobs = dict(self.query("SELECT state, count(*) FROM jobs GROUP BY state"))
        due = self.query("SELECT count(*) FROM scheduled_notifications "
                         "WHERE state = 'pending' AND kind = 'join_button' AND due_at <= ?",
                         (now,))[0][0]
        return {"queued": int(jobs.get("queued", 0)), "running": int(jobs.get("running", 0)),
                "parked": int(jobs.get("parked", 0)), "buttons_due": int(due)}

    def delivered_buttons(self) -> set[str]:
        """Keys of Join buttons marked delivered, and of those withdrawn since (their
        meeting was cancelled or moved: the delivered row gives way to a withdrawal,
        keyed ``withdrawn|<button key>|<delivery time>``)."""
        keys = {row[0] for row in self.query(
            "SELECT key FROM scheduled_notifications WHERE kind = 'join_button' "
            "AND state = 'delivered'")}
        withdrawn = {str(row[0]).removeprefix("withdrawn|").rpartition("|")[0]
                     for row in self.query("SELECT key FROM scheduled_notifications "
                                           "WHERE kind = 'join_button_withdrawn'")}
        return keys | withdrawn


def wait_for(condition: Callable[[], bool], within: float, what: str,
             every: float = 0.1) -> None:
    """Re-check ``condition`` until it holds; raise naming ``what`` after ``within`` s.

    The harness watches separate processes (the gateway, the emulators) through their
    files and APIs, so it polls with a deadline; pytest tests never do this.
    """
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:.0f} s")
        time.sleep(every)
