"""``hybrid-calendar emulator google``: run the Google API emulator on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_calendar import hookimpl

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``emulator google``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0: any free port)")
    parser.add_argument("--domain", default="example.com", help="Workspace domain")
    parser.add_argument("--users", default="",
                        help="comma-separated user emails of the domain (a@D,b@D,...)")
    parser.add_argument("--service-account-out", type=Path, required=True, metavar="FILE",
                        help="write the trusted service-account key file here (mode 0600)")
    parser.add_argument("--public-url", default=None,
                        help="base URL clients use, if not http://HOST:PORT")
    parser.add_argument("--project-rpm", type=int, default=10_000,
                        help="requests per minute per project (default 10000)")
    parser.add_argument("--user-rpm", type=int, default=600,
                        help="requests per minute per user (default 600)")
    parser.add_argument("--sync-token-ttl", type=float, default=None,
                        help="seconds until sync tokens expire (default: never)")
    parser.add_argument("--require-https", action="store_true",
                        help="refuse non-HTTPS watch addresses, as Google does")
    parser.add_argument("--verified-push-domain", action="append", default=None,
                        metavar="DOMAIN", dest="verified_push_domains",
                        help="a domain the project owns: watch addresses elsewhere get 401 "
                             "push.webhookUrlUnauthorized, as Google answers (repeatable; "
                             "default: every host is accepted)")
    parser.add_argument("--no-gzip", action="store_true",
                        help="never gzip responses (default: gzip when the request asks as "
                             "Google's performance guide says)")
    parser.add_argument("--faults", type=_json_object, default=None, metavar="JSON",
                        help="initial control document, e.g. '{\"latency_ms\": 20}'")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="bulk-seed every user with N events (skipped when state is loaded)")
    parser.add_argument("--state-file", type=Path, default=None, metavar="FILE",
                        help="load state from FILE if it exists and save it there on exit "
                             "(default: memory only)")


def _json_object(text: str) -> dict[str, object]:
    """An argparse type: a JSON object (argparse reports anything else as a usage error)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON ({err.msg})") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def run(args: argparse.Namespace) -> int:
    """Start the emulator and serve until interrupted."""
    from hybrid_calendar_google_emulator.options import EmulatorOptions
    from hybrid_calendar_google_emulator.server import bind, make_server
    from hybrid_calendar_google_emulator.state import EmulatorState

    users = [u.strip() for u in args.users.split(",") if u.strip()]
    foreign = [u for u in users if not u.lower().endswith("@" + args.domain.lower())]
    if foreign:
        print(f"error: {len(foreign)} user(s) not in domain {args.domain}", file=sys.stderr)
        return 2
    options = EmulatorOptions(
        domain=args.domain, users=users, project_rpm=args.project_rpm,
        user_rpm=args.user_rpm, sync_token_ttl=args.sync_token_ttl,
        require_https=args.require_https, public_base_url=args.public_url,
        verified_push_domains=(None if args.verified_push_domains is None
                               else tuple(args.verified_push_domains)),
        gzip_responses=not args.no_gzip)
    state = EmulatorState(options)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    state.set_base_url(f"http://{host}:{port}")
    loaded = False
    if args.state_file is not None:
        from hybrid_calendar_google_emulator.persist import load

        try:
            loaded = load(state, args.state_file)
        except ValueError as err:  # not overwritten on exit: the file may be worth saving
            return _refuse(sock, state, f"{args.state_file}: {err}")
    if args.faults:
        try:
            state.control(args.faults)
        except ValueError as err:
            return _refuse(sock, state, f"--faults: {err}")
    if args.seed and not loaded:
        state.bulk_seed(users, args.seed)
    out: Path = args.service_account_out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state.service_account_info, handle, indent=2)
    print(f"Google API emulator on {state.public_url} ({len(users)} users); key written to "
          f"{out}", flush=True)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal; a no-op handler
    # lets this function return normally (and save the state) instead of dying by signal.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        asyncio.run(make_server(state).serve(sockets=[sock]))
    finally:
        state.close()
        if args.state_file is not None:
            from hybrid_calendar_google_emulator.persist import save

            save(state, args.state_file)
    return 0


def _refuse(sock: socket.socket, state: EmulatorState, message: str) -> int:
    """Give up before serving: release the port and the state, print ``message``."""
    sock.close()
    state.close()
    print(f"error: {message}", file=sys.stderr)
    return 2


def configure_user(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``emulator google-user``."""
    parser.add_argument("--url", default="http://127.0.0.1:8081",
                        help="the running emulator (default http://127.0.0.1:8081)")
    parser.add_argument("email", help="a user of the emulated domain")
    parser.add_argument("--locale", help="Calendar locale setting, e.g. de or fr")
    parser.add_argument("--timezone", help="Calendar time zone, e.g. Europe/Berlin")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--vacation", metavar="SUBJECT",
                       help="turn the Gmail vacation responder on with this subject")
    group.add_argument("--no-vacation", action="store_true",
                       help="turn the vacation responder off")
    parser.add_argument("--vacation-until", metavar="ISO_DATETIME",
                        help="the responder's end, e.g. 2026-12-24T00:00:00+00:00")


def control_document(args: argparse.Namespace) -> dict[str, object]:
    """The ``/emulator/control`` document ``emulator google-user`` sends."""
    from datetime import datetime

    spec: dict[str, object] = {}
    settings = {k: v for k, v in (("locale", args.locale), ("timezone", args.timezone)) if v}
    if settings:
        spec["user_settings"] = {"user": args.email, **settings}
    if args.vacation or args.no_vacation:
        vacation: dict[str, object] = {"user": args.email,
                                       "enableAutoReply": bool(args.vacation)}
        if args.vacation:
            vacation["responseSubject"] = args.vacation
        if args.vacation_until:
            try:
                until = datetime.fromisoformat(args.vacation_until)
            except ValueError:
                raise SystemExit(f"error: --vacation-until: {args.vacation_until!r} is not an "
                                 "ISO date-time") from None
            vacation["endTime"] = int(until.timestamp() * 1000)
        spec["vacation"] = vacation
    return spec


def run_user(args: argparse.Namespace) -> int:
    """Send the changes to the running emulator; print what it did."""
    import httpx

    spec = control_document(args)
    if not spec:
        print("error: nothing to change: give --locale, --timezone, --vacation or "
              "--no-vacation", file=sys.stderr)
        return 2
    try:
        response = httpx.post(args.url.rstrip("/") + "/emulator/control", json=spec,
                              timeout=10)
    except httpx.HTTPError as err:
        print(f"error: cannot reach the emulator at {args.url}: {err}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"error: {response.json().get('error', response.text)}", file=sys.stderr)
        return 2
    changed = [k for k in ("locale", "timezone") if getattr(args, k)]
    if "vacation" in spec:
        changed.append("vacation responder " + ("on" if args.vacation else "off"))
    print(f"{args.email}: set {', '.join(changed)}")
    return 0


@hookimpl
def register_commands(
    register: Callable[[str, str, Callable[[argparse.ArgumentParser], None],
                        Callable[[argparse.Namespace], int]], None],
) -> None:
    """Register ``emulator google`` and ``emulator google-user``."""
    register("emulator google", "run the Google Calendar/Gmail API emulator", configure, run)
    register("emulator google-user", "set a user's locale, time zone or vacation responder "
             "in a running Google emulator", configure_user, run_user)
