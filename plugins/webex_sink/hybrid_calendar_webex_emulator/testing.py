"""Running the Webex emulator from tests: :func:`running_webex_emulator`.

::

    with running_webex_emulator(users=["alice@example.com"], workspaces=1) as emu:
        emu.api_base        # "http://127.0.0.1:<port>/v1"
        emu.admin_token     # a full administrator's bearer token
        emu.token("alice@example.com")
        emu.state.set_status("alice@example.com", "OutOfOffice")

The server runs in a background thread with its own event loop, so the same context
manager works in synchronous and ``async`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hybrid_calendar.clock import Clock
from hybrid_calendar.loading import environment_enabling
from hybrid_calendar_webex_emulator.delivery import Delivery
from hybrid_calendar_webex_emulator.server import BackgroundServer
from hybrid_calendar_webex_emulator.settings import USER_SCOPES, WebexEmulatorSettings
from hybrid_calendar_webex_emulator.state import WebexState


@dataclass(frozen=True)
class ServiceAppGrant:
    """An authorised Service App and its first token pair."""

    application_id: str
    client_id: str
    client_secret: str
    person_id: str
    """Its machine account."""
    access_token: str
    refresh_token: str


class RunningWebexEmulator:
    """A started emulator: its URL, tokens, live state and controls."""

    def __init__(self, state: WebexState, server: BackgroundServer) -> None:
        self.state = state
        self.server = server

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.server.base_url

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (wxc-sdk's ``BASE``; webexpythonsdk's
        ``base_url`` with a trailing slash)."""
        return self.base_url + "/v1"

    @property
    def admin_token(self) -> str:
        """A full administrator's token (every scope)."""
        return self.state.admin_token

    def token(self, email: str, scopes: Sequence[str] = USER_SCOPES) -> str:
        """A personal access token for ``email`` with ``scopes``."""
        return self.state.issue_token(email, list(scopes))

    def authorized_service_app(self, name: str = "Service App",
                               scopes: Sequence[str] | None = None) -> ServiceAppGrant:
        """Register a Service App, have the administrator authorise it, and fetch its token
        pair as ``POST /v1/applications/{id}/token`` would."""
        state = self.state
        app = state.create_service_app(name, list(scopes) if scopes is not None else None)
        state.authorize_service_app(app.application_id)
        with state.lock:
            access, refresh = state.tokens.issue_pair(
                app.person_id, frozenset(app.scopes), state.clock.now(),
                state.settings.service_app_token_ttl, state.settings.refresh_token_ttl,
                app.client_id, kind="serviceApp")
        return ServiceAppGrant(app.application_id, app.client_id, app.client_secret,
                               app.person_id, access.token, refresh.token)

    def control(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Same as ``POST /_emulator/control`` (see :mod:`.control`)."""
        return self.state.control(spec)

    def wait_for_webhooks(self, timeout: float = 5.0) -> list[Delivery]:
        """Wait until queued webhook deliveries were attempted; returns all so far."""
        self.state.wait_for_webhooks(timeout)
        return list(self.state.delivery.deliveries)


@contextmanager
def running_webex_emulator(domain: str = "example.com", users: Sequence[str] = (),
                           *, host: str = "127.0.0.1", port: int = 0,
                           faults: dict[str, Any] | None = None, clock: Clock | None = None,
                           **settings: Any) -> Iterator[RunningWebexEmulator]:
    """Start a Webex emulator on loopback for the duration of the ``with`` block.

    :param faults: a control document applied before serving (see :mod:`.control`).
    :param clock: time source (a ``ManualClock`` lets tests move time).
    :param settings: any :class:`WebexEmulatorSettings` field; unknown names raise
        ``TypeError``.
    """
    config = WebexEmulatorSettings().merged({"domain": domain, "users": list(users),
                                             **settings})
    state = WebexState(config, clock)
    if faults:
        state.control(faults)
    server = BackgroundServer(state, host, port)
    server.start()
    try:
        yield RunningWebexEmulator(state, server)
    finally:
        server.stop()
        state.close()


def cli_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment in which ``hybrid-calendar emulator ...`` offers this emulator's
    command: ``environ`` (default: this process's) with the ``webex_emulator`` plugin enabled."""
    return environment_enabling("webex_emulator", environ)
