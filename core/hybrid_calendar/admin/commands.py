"""``hybrid-calendar users ...``, ``admin ...``, ``config init`` and ``wait-ready``.

They open the configured database directly (no running gateway needed) and run the same
code as the admin API; activation runs at once and prints each user's resulting state.
Sync jobs they queue are picked up by the running gateway's engine. Every change is
written to the audit log as actor ``cli:<login>``, source ``local``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hybrid_calendar.admin import audit
from hybrid_calendar.admin import users as user_admin
from hybrid_calendar.admin.credentials import Role, add_credential, list_credentials
from hybrid_calendar.admin.credentials import remove_credential as remove
from hybrid_calendar.cli import Command
from hybrid_calendar.errors import ConfigError, GatewayError
from hybrid_calendar.gateway import Gateway


def _actor() -> str:
    return audit.cli_actor()


def _with_gateway(args: argparse.Namespace,
                  work: Callable[[Gateway], Awaitable[int]]) -> int:
    from hybrid_calendar.builder import opened_gateway
    from hybrid_calendar.loading import load_config

    config, pm = load_config(args.config)

    async def run() -> int:
        async with opened_gateway(config, pm) as gateway:
            return await work(gateway)

    return asyncio.run(run())


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")


def _configure_activate(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument("--org", required=True, help="organisation id")
    parser.add_argument("--csv", metavar="FILE",
                        help="CSV of addresses (an 'email' column, or the first column)")
    parser.add_argument("--mark-verified", action="store_true",
                        help="mark these very addresses verified (outside the verified "
                             "domains)")
    parser.add_argument("emails", nargs="*", metavar="EMAIL")


def _configure_emails(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument("--org", required=True, help="organisation id")
    parser.add_argument("emails", nargs="+", metavar="EMAIL")


def _print_user(email: str, state: str, reason: str | None) -> None:
    print(f"{email}: {state}" + (f" ({reason})" if reason else ""))


def _run_activate(args: argparse.Namespace) -> int:
    emails = list(args.emails)
    if args.csv:
        try:
            emails += user_admin.read_addresses_csv(Path(args.csv).read_text("utf-8-sig"))
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError("--csv", f"cannot read {args.csv}: {err}") from None
    if not emails:
        raise ConfigError("EMAIL", "give addresses or --csv FILE")

    async def work(gateway: Gateway) -> int:
        org = await _org(gateway, args.org)
        outcomes = await user_admin.activate_addresses(gateway, org, emails,
                                                       mark_verified=args.mark_verified)
        failed = 0
        for outcome in outcomes:
            if outcome.user is None:
                failed += 1
                _print_user(outcome.email, "refused", f"{outcome.code}: {outcome.reason}")
                continue
            row = user_admin.user_json(outcome.user)
            failed += row["state"] != "active"
            _print_user(outcome.email, row["state"],
                        f"{row['reason_code']}: {row['reason']}" if row["reason"] else None)
        await audit.record(gateway, actor=_actor(), action="users.activate", target=org.id,
                           source="local", details={
                               "accepted": sum(o.accepted for o in outcomes),
                               "refused": sum(not o.accepted for o in outcomes)})
        return 1 if failed else 0

    return _with_gateway(args, work)


def _each_user(action: str, change: Callable[[Gateway, Any], Awaitable[Any]]
               ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def work(gateway: Gateway) -> int:
            org = await _org(gateway, args.org)
            failed = 0
            for email in args.emails:
                user = await gateway.store.find_user(org.id, email)
                if user is None:
                    failed += 1
                    _print_user(email, "unknown", "no such user in this organisation")
                    continue
                row = user_admin.user_json(await change(gateway, user))
                _print_user(email, row["state"], f"{row['reason_code']}: {row['reason']}"
                            if row["reason"] else None)
                failed += row["state"] == "error"
                await audit.record(gateway, actor=_actor(), action=action, target=user.id,
                                   source="local", outcome=row["state"])
            return 1 if failed else 0

        return _with_gateway(args, work)

    return run


def _configure_list(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument("--org", required=True, help="organisation id")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _run_list(args: argparse.Namespace) -> int:
    async def work(gateway: Gateway) -> int:
        org = await _org(gateway, args.org)
        rows = await user_admin.user_rows(gateway, org.id)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print("email\tstate\treason\tlast sync\tchannel expires\tmeetings\tundelivered")
        for row in rows:
            reason = f"{row['reason_code']}: {row['reason']}" if row["reason"] else "-"
            print("\t".join(str(v) for v in (
                row["email"], row["state"], reason, row["last_sync_at"] or "-",
                row["channel_expires_at"] or "-", row["meetings"],
                row["undelivered_notifications"])))
        return 0

    return _with_gateway(args, work)


async def _org(gateway: Gateway, org_id: str) -> Any:
    org = await gateway.store.get_organisation(org_id)
    if org is None:
        raise GatewayError(f"unknown organisation {org_id!r}: create it with `org init`")
    return org


def _configure_admin_add(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument("name", help="credential name (letters, digits, . _ -)")
    parser.add_argument("--role", choices=[r.value for r in Role], default="admin",
                        help="admin (full) or auditor (read-only)")


def _run_admin_add(args: argparse.Namespace) -> int:
    async def work(gateway: Gateway) -> int:
        secret = await add_credential(gateway, args.name, Role(args.role))
        await audit.record(gateway, actor=_actor(), action="credentials.add",
                           target=args.name, source="local", details={"role": args.role})
        print(f"created {args.role} credential {args.name!r}; its secret (shown once):",
              file=sys.stderr)
        print(f"{args.name}:{secret}")
        return 0

    return _with_gateway(args, work)


def _configure_admin_name(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument("name", help="credential name")


def _run_admin_remove(args: argparse.Namespace) -> int:
    async def work(gateway: Gateway) -> int:
        found = await remove(gateway, args.name)
        await audit.record(gateway, actor=_actor(), action="credentials.remove",
                           target=args.name, source="local",
                           outcome="ok" if found else "not found")
        print(f"removed {args.name}" if found else f"no credential named {args.name!r}")
        return 0 if found else 1

    return _with_gateway(args, work)


def _run_admin_list(args: argparse.Namespace) -> int:
    async def work(gateway: Gateway) -> int:
        for item in await list_credentials(gateway):
            print(f"{item['name']}\t{item['role']}")
        return 0

    return _with_gateway(args, work)


def sample_config() -> str:
    """The commented sample ``gateway.toml`` (runs against the bundled emulator)."""
    from importlib import resources

    return resources.files("hybrid_calendar.admin").joinpath(
        "sample-gateway.toml").read_text()


def _configure_config_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="gateway.toml",
                        help="where to write it (default gateway.toml; - for stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def _run_config_init(args: argparse.Namespace) -> int:
    text = sample_config()
    if args.file == "-":
        print(text, end="")
        return 0
    target = Path(args.file)
    if target.exists() and not args.force:
        raise ConfigError("config init", f"{target} exists; use --force to overwrite it")
    target.write_text(text)
    print(f"wrote {target}; check it with: hybrid-calendar config check {target}")
    return 0


def _configure_wait_ready(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="http(s)://host:port/path or tcp://host:port")
    parser.add_argument("--within", type=float, default=30.0,
                        help="seconds before giving up (default 30)")
    parser.add_argument("--status", type=int, default=None,
                        help="HTTP status that counts as ready (default: any answer)")


def _run_wait_ready(args: argparse.Namespace) -> int:
    from hybrid_calendar.listening import ServerNotAnsweringError, wait_until_answering

    if not _well_formed_address(args.address):
        raise ConfigError("address", f"{args.address}: expected an http(s):// URL or "
                                     "tcp://host:port")
    try:
        wait_until_answering(args.address, within=args.within, status=args.status)
    except ServerNotAnsweringError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _well_formed_address(address: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    if parts.scheme == "tcp":
        return bool(parts.hostname) and port is not None
    return parts.scheme in ("http", "https") and bool(parts.hostname)


COMMANDS: list[Command] = [
    Command("config init", "write a commented sample gateway.toml (runs against the "
            "bundled emulator as written)", _configure_config_init, _run_config_init),
    Command("wait-ready", "wait until a server answers (scripts: after starting serve)",
            _configure_wait_ready, _run_wait_ready),
    Command("users activate", "activate users by address or CSV (validates at once)",
            _configure_activate, _run_activate),
    Command("users validate", "validate users again (e.g. after fixing an error)",
            _configure_emails, _each_user("users.validate", user_admin.validate_user_again)),
    Command("users deactivate", "deactivate users: stop the channel, purge their data",
            _configure_emails, _each_user("users.deactivate", user_admin.deactivate_user)),
    Command("users list", "users with state, reason, last sync, channel expiry, counts",
            _configure_list, _run_list),
    Command("admin add", "create an admin credential and print its secret once",
            _configure_admin_add, _run_admin_add),
    Command("admin remove", "delete an admin credential", _configure_admin_name,
            _run_admin_remove),
    Command("admin list", "list admin credentials (names and roles)", _config_option,
            _run_admin_list),
]
