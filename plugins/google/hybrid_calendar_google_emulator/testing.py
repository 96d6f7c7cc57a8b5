"""Running the emulator from tests: :func:`running_emulator`.

::

    with running_emulator(domain="example.com", users=["alice@example.com"]) as emu:
        emu.base_url, emu.service_account_info, emu.state, emu.control({...})

The server runs in a background thread with its own event loop, so the same context
manager works in synchronous and ``async`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from hybrid_calendar.loading import environment_enabling
from hybrid_calendar_google_emulator.options import CALENDAR_SCOPE, EmulatorOptions
from hybrid_calendar_google_emulator.push import Delivery
from hybrid_calendar_google_emulator.server import BackgroundServer
from hybrid_calendar_google_emulator.state import EmulatorState


class RunningEmulator:
    """A started emulator: its URL, key, live state and controls."""

    def __init__(self, state: EmulatorState, server: BackgroundServer) -> None:
        self.state = state
        self.server = server

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.server.base_url

    @property
    def calendar_endpoint(self) -> str:
        """``api_endpoint`` for ``build("calendar", "v3", ...)``."""
        return self.base_url + "/calendar/v3/"

    @property
    def service_account_info(self) -> dict[str, str]:
        """The trusted service-account key (``token_uri`` = ``base_url + "/token"``)."""
        return self.state.service_account_info

    def control(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Same as POST /emulator/control (see :mod:`.control`)."""
        return self.state.control(spec)

    def credentials(self, user: str, scopes: Sequence[str] = (CALENDAR_SCOPE,)) -> Any:
        """google-auth service-account credentials impersonating ``user``."""
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            self.service_account_info, scopes=list(scopes))
        return creds.with_subject(user)

    def wait_for_notifications(self, timeout: float = 5.0) -> list[Delivery]:
        """Wait until queued push messages were delivered; returns all deliveries so far."""
        self.state.push.wait_idle(timeout)
        return list(self.state.push.deliveries)


@contextmanager
def running_emulator(domain: str = "example.com", users: Sequence[str] = (),
                     *, host: str = "127.0.0.1", port: int = 0,
                     faults: dict[str, Any] | None = None,
                     **options: Any) -> Iterator[RunningEmulator]:
    """Start an emulator on loopback for the duration of the ``with`` block.

    :param faults: a control document applied before serving (see :mod:`.control`).
    :param options: any :class:`EmulatorOptions` field (``user_rpm``, ``sync_token_ttl``,
        ``require_https``, ...); unknown names raise ``TypeError``.
    """
    config = EmulatorOptions().merged({"domain": domain, "users": list(users), **options})
    state = EmulatorState(config)
    if faults:
        state.control(faults)
    server = BackgroundServer(state, host, port)
    server.start()
    try:
        yield RunningEmulator(state, server)
    finally:
        server.stop()
        state.close()


def cli_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment in which ``hybrid-calendar emulator ...`` offers this emulator's
    command: ``environ`` (default: this process's) with the ``google_emulator`` plugin enabled."""
    return environment_enabling("google_emulator", environ)
