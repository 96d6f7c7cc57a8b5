"""``hybrid-calendar access issue|list|revoke``: personal access from the command line.

Each opens the configured database next to a running gateway (SQLite WAL lets them share
the file) without starting anything. ``issue`` prints the secret once, as JSON; a user
is named by id or by ``--org ORG --email ADDRESS``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from hybrid_calendar.errors import GatewayError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import User
from hybrid_calendar.people import access
from hybrid_calendar.people.admin import issue_for

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


@asynccontextmanager
async def _gateway(config_path: str | None) -> AsyncIterator[Gateway]:
    from hybrid_calendar.builder import opened_gateway
    from hybrid_calendar.loading import load_config

    config, pm = load_config(Path(config_path) if config_path else None)
    async with opened_gateway(config, pm) as gateway:
        yield gateway


async def _user(gateway: Gateway, args: argparse.Namespace) -> User:
    if args.user:
        user = await gateway.store.get_user(args.user)
    elif args.org and args.email:
        user = await gateway.store.find_user(args.org, args.email)
    else:
        raise GatewayError("name the user: --user ID, or --org ORG --email ADDRESS")
    if user is None:
        raise GatewayError("no such user")
    return user


async def issue_command(args: argparse.Namespace) -> dict[str, Any]:
    """Issue a token or sign-in link; the answer holds the secret."""
    async with _gateway(args.config) as gateway:
        user = await _user(gateway, args)
        return await issue_for(gateway, user, "link" if args.link else "token",
                               "room" if args.room else "person", args.days, args.label)


async def list_command(args: argparse.Namespace) -> list[dict[str, Any]]:
    """A user's grants, without secrets."""
    async with _gateway(args.config) as gateway:
        user = await _user(gateway, args)
        return [g.as_json() for g in await access.list_for_user(gateway, user.id)]


async def revoke_command(args: argparse.Namespace) -> bool:
    """Revoke one grant by id."""
    async with _gateway(args.config) as gateway:
        return await access.revoke(gateway, args.access_id)


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--user", help="user id")
    parser.add_argument("--org", help="organisation id (with --email)")
    parser.add_argument("--email", help="the user's address (with --org)")


def _configure_issue(parser: argparse.ArgumentParser) -> None:
    _who(parser)
    parser.add_argument("--link", action="store_true", help="a one-time sign-in link")
    parser.add_argument("--room", action="store_true", help="for a room display")
    parser.add_argument("--days", type=float, help="lifetime (default: people.token_days or "
                                                   "people.link_minutes)")
    parser.add_argument("--label", default="", help="a note for the admin listing")


def _configure_revoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("access_id", help="id shown by `access list`")


def _run_issue(args: argparse.Namespace) -> int:
    if args.days is not None and not 0 < args.days <= 366:
        raise GatewayError("--days must be between 0 and 366")
    print(json.dumps(anyio.run(issue_command, args), indent=2))
    return 0


def _run_list(args: argparse.Namespace) -> int:
    print(json.dumps(anyio.run(list_command, args), indent=2))
    return 0


def _run_revoke(args: argparse.Namespace) -> int:
    if anyio.run(revoke_command, args):
        print(f"revoked {args.access_id}")
        return 0
    print(f"no access with id {args.access_id}")
    return 1


def register_access_commands(register: Callable[[str, str, Configure, Run], None]) -> None:
    """Add the ``access`` command group."""
    register("access issue", "Issue a personal access token or sign-in link to a user or "
             "room display (prints the secret once).", _configure_issue, _run_issue)
    register("access list", "List a user's personal access grants.", _who, _run_list)
    register("access revoke", "Revoke a personal access grant.", _configure_revoke,
             _run_revoke)
