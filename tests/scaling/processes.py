"""Real ``hybrid-calendar serve`` processes sharing one PostgreSQL database.

:class:`GatewayProcesses` writes one configuration per process (same database, same
key file, own port), starts them as subprocesses, and installs a small sink plugin as a
real distribution with an entry point: it appends every delivered notification to one
file (``kind key pid`` per line), so the test sees deliveries of every process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid_calendar.listening import ServerNotAnsweringError, wait_until_answering

RECORDING_SINK = '''
import os
from hybrid_calendar import hookimpl
from hybrid_calendar.models import DeliveryReceipt, NotificationKind

LOG = os.environ["RECORDING_SINK_FILE"]


@hookimpl
def register_delivery_kinds(register):
    """Every kind."""
    for kind in NotificationKind:
        register(kind)


@hookimpl
def deliver_notification(gateway, notification):
    """Append one line per delivery (O_APPEND: lines of processes never interleave)."""
    line = f"{notification.kind} {notification.key} {os.getpid()}\\n".encode()
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return DeliveryReceipt.delivered()
'''


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, number, list or table of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of ASCII is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml(document: Mapping[str, Mapping[str, Any]]) -> str:
    """A TOML document of tables of values."""
    lines: list[str] = []
    for table, values in document.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def install_recording_sink(root: Path) -> None:
    """Lay out the sink module and its dist-info (entry point ``recording``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "recording_sink.py").write_text(textwrap.dedent(RECORDING_SINK))
    dist = root / "recording_sink-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: recording-sink\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[hybrid_calendar]\nrecording = recording_sink\n")


@dataclass
class GatewayProcess:
    """One running gateway."""

    index: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(errors="replace")


@dataclass
class GatewayProcesses:
    """Gateways sharing ``settings`` (the database among them), one port each."""

    root: Path
    settings: dict[str, dict[str, Any]]
    running: list[GatewayProcess] = field(default_factory=list)

    @property
    def deliveries(self) -> Path:
        """The recording sink's file."""
        return self.root / "deliveries.log"

    def start(self, port: int, public_url: str | None = None) -> GatewayProcess:
        """Start one more gateway on ``port`` and wait until it is ready.

        :param public_url: where Google pushes notifications for the channels this
            process opens (default: its own address; another process's, as behind a
            load balancer).
        """
        index = len(self.running)
        document = {table: dict(values) for table, values in self.settings.items()}
        document["gateway"] = {**document.get("gateway", {}), "port": port,
                               "public_url": public_url or f"http://127.0.0.1:{port}"}
        config = self.root / f"gateway-{index}.toml"
        config.write_text(toml(document))
        plugins = self.root / "site"
        install_recording_sink(plugins)
        env = {key: value for key, value in os.environ.items()
               if key != "HYBRID_CALENDAR_NO_ENTRYPOINTS"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugins),
                                                          env.get("PYTHONPATH")]))
        env["RECORDING_SINK_FILE"] = str(self.deliveries)
        log = self.root / f"gateway-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "hybrid_calendar.cli", "serve", "--config", str(config)],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT)
        gateway = GatewayProcess(index, port, process, log)
        self.running.append(gateway)
        try:
            wait_until_answering(gateway.base_url + "/readyz", within=60, status=200,
                                 alive=lambda: process.poll() is None)
        except ServerNotAnsweringError as err:
            raise AssertionError(f"gateway {index} not ready: {err}\n{gateway.output()}"
                                 ) from err
        return gateway

    def kill(self, gateway: GatewayProcess) -> None:
        """SIGKILL: no shutdown, no re-queue, leases left behind."""
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(10)

    def stop_all(self) -> None:
        """SIGTERM every live gateway and wait for it."""
        for gateway in self.running:
            if gateway.process.poll() is None:
                gateway.process.send_signal(signal.SIGTERM)
        for gateway in self.running:
            try:
                gateway.process.wait(30)
            except subprocess.TimeoutExpired:
                gateway.process.kill()
                gateway.process.wait(10)
