"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

It runs the server binaries of the machine's PostgreSQL installation (Debian's
``postgresql`` package: ``/usr/lib/postgresql/<version>/bin``) on a fresh data directory
in a temporary folder, listening on ``127.0.0.1`` at a free port with trust
authentication for loopback only. PostgreSQL refuses to run as root, so when this process
is root the server runs as the ``postgres`` system user (``runuser``), in a folder that
user owns. ``pg_ctl start -w`` returns once the server accepts connections, so nothing
polls.

Durability settings are relaxed (``fsync=off``) unless ``durable=True``: a throwaway
database loses nothing that matters in a crash.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

SEARCH_GLOB = "/usr/lib/postgresql/*/bin"
"""Where Debian installs the server binaries, one folder per major version."""

SUPERUSER = "postgres"


class PostgresNotInstalledError(RuntimeError):
    """No PostgreSQL server binaries were found (install Debian's ``postgresql``)."""


def find_bin_dir() -> Path:
    """The newest installed server's ``bin`` folder (``PG_BIN_DIR`` overrides).

    :raises PostgresNotInstalledError: no ``initdb``/``pg_ctl`` found.
    """
    configured = os.environ.get("PG_BIN_DIR")
    candidates = [Path(configured)] if configured else sorted(
        Path("/").glob(SEARCH_GLOB.lstrip("/")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    raise PostgresNotInstalledError(
        "PostgreSQL server binaries not found (looked in PG_BIN_DIR, "
        f"{SEARCH_GLOB} and PATH): install Debian's postgresql package (.ci/run does)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPostgres:
    """One PostgreSQL server in a temporary folder; :meth:`start`, then :meth:`stop`.

    :param durable: keep ``fsync`` and synchronous commits on (benchmarks).
    :param max_connections: the server's connection limit.
    :param settings: more server settings (``name=value``), e.g.
        ``{"shared_preload_libraries": "pg_stat_statements"}`` to count statements.
    """

    def __init__(self, *, durable: bool = False, max_connections: int = 200,
                 settings: Mapping[str, str] | None = None) -> None:
        self.bin_dir = find_bin_dir()
        self.durable = durable
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.port = 0
        self.folder: Path | None = None
        self._as_user = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The server's ``postgres`` maintenance database, as a connection URL."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def _run(self, args: Sequence[str]) -> None:
        command = list(args)
        if self._as_user:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-2000:]}")

    def start(self) -> None:
        """Create the data directory and start the server (returns once it accepts)."""
        self.folder = Path(tempfile.mkdtemp(prefix="hybrid-calendar-pg-"))
        if self._as_user:
            account = pwd.getpwnam(SUPERUSER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        data = self.folder / "data"
        self._run([str(self.bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
        self.port = free_port()
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                   f"-c unix_socket_directories={self.folder}",
                   f"-c max_connections={self.max_connections}"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off",
                        "-c full_page_writes=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l",
                   str(self.folder / "server.log"), "-o", " ".join(options), "-w",
                   "-t", "60", "start"])

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if self.folder is None:
            return
        with contextlib.suppress(RuntimeError):
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"),
                       "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log (for error messages)."""
        if self.folder is None:
            return ""
        log = self.folder / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_postgres(*, durable: bool = False, settings: Mapping[str, str] | None = None
                     ) -> Iterator[LocalPostgres]:
    """A started :class:`LocalPostgres`, stopped on exit."""
    server = LocalPostgres(durable=durable, settings=settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
