"""``hybrid-calendar emulator webex``: run the Webex API emulator on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from hybrid_calendar import hookimpl


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``emulator webex``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8082, help="port (0: any free port)")
    parser.add_argument("--domain", default="example.com", help="the organisation's domain")
    parser.add_argument("--users", default="",
                        help="comma-separated people of the organisation (alice or "
                             "alice@DOMAIN)")
    parser.add_argument("--workspaces", type=int, default=0, metavar="N",
                        help="create N workspaces (calendar room-I@DOMAIN, one device each)")
    parser.add_argument("--admin-token-out", type=Path, default=None, metavar="FILE",
                        help="write a full administrator's bearer token here (mode 0600)")
    parser.add_argument("--public-url", default=None,
                        help="base URL clients use, if not http://HOST:PORT")
    parser.add_argument("--faults", type=_json_object, default=None, metavar="JSON",
                        help="initial control document, e.g. '{\"latency_ms\": 20}'")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="create N upcoming meetings per person (skipped when state "
                             "is loaded)")
    parser.add_argument("--state-file", type=Path, default=None, metavar="FILE",
                        help="load state from FILE if it exists and save it there on exit")


def _json_object(text: str) -> dict[str, object]:
    """An argparse type: a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON ({err.msg})") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


def run(args: argparse.Namespace) -> int:
    """Start the emulator and serve until interrupted."""
    from hybrid_calendar_webex_emulator.persist import load, save
    from hybrid_calendar_webex_emulator.seed import seed_meetings
    from hybrid_calendar_webex_emulator.server import bind, make_server
    from hybrid_calendar_webex_emulator.settings import WebexEmulatorSettings
    from hybrid_calendar_webex_emulator.state import WebexState, qualify

    users = [qualify(u, args.domain) for u in args.users.split(",") if u.strip()]
    foreign = [u for u in users if not u.lower().endswith("@" + args.domain.lower())]
    if foreign:
        print(f"error: {len(foreign)} user(s) not in domain {args.domain}", file=sys.stderr)
        return 2
    if args.workspaces < 0:
        print("error: --workspaces must not be negative", file=sys.stderr)
        return 2
    settings = WebexEmulatorSettings(domain=args.domain, users=users,
                                     workspaces=args.workspaces,
                                     public_base_url=args.public_url)
    state = WebexState(settings)
    loaded = False
    source = str(args.state_file)
    try:
        if args.state_file is not None:
            loaded = load(state, args.state_file)
        source = "--faults"
        if args.faults:
            state.control(args.faults)
    except ValueError as err:  # the state file is left as it is
        state.close()
        print(f"error: {source}: {err}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        state.close()
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror}",
              file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    state.set_base_url(f"http://{host}:{port}")
    if args.seed and not loaded:
        seed_meetings(state, args.seed)
    if args.admin_token_out is not None:
        _write_secret(args.admin_token_out, state.admin_token)
    print(f"Webex API emulator on {state.public_url}/v1 ({len(users)} users, "
          f"{len(state.workspaces)} workspaces)", flush=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        asyncio.run(make_server(state).serve(sockets=[sock]))
    finally:
        state.close()
        if args.state_file is not None:
            save(state, args.state_file)
    return 0


@hookimpl
def register_commands(
    register: Callable[[str, str, Callable[[argparse.ArgumentParser], None],
                        Callable[[argparse.Namespace], int]], None],
) -> None:
    """Register ``emulator webex``."""
    register("emulator webex", "run the Webex API emulator", configure, run)
