"""The ``hybrid-calendar`` command line.

Core commands live here (``serve``, ``demo``, ``config check``, ``plugins``, ``docs hooks``);
plugins add theirs through the ``register_commands`` hook (``emulator google``,
``kms rotate``, ``parse-join``, ...). A command name with a space creates a group.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hybrid_calendar import __version__
from hybrid_calendar import config as config_module
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.loading import plugin_manager

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One sub-command: ``name`` may be ``"group sub"``."""

    name: str
    help: str
    configure: Configure
    run: Run


def core_commands() -> list[Command]:
    """The commands the core itself provides."""
    from hybrid_calendar import backup, commands
    from hybrid_calendar.admin import commands as admin_commands
    from hybrid_calendar.crypto import commands as kms_commands

    return [*commands.COMMANDS, *backup.COMMANDS, *admin_commands.COMMANDS,
            *kms_commands.COMMANDS]


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """Build the argument parser, creating command groups for names with a space."""
    parser = argparse.ArgumentParser(
        prog="hybrid-calendar",
        description="Hybrid calendar gateway: Google Workspace calendars to meeting systems.",
        epilog="Commands come from the plugins the configuration enables (--config FILE "
               "and HYBRID_CALENDAR_PLUGINS__* variables); the API emulators' commands, for "
               "example, need HYBRID_CALENDAR_PLUGINS__ENABLED=google_emulator,webex_emulator.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    top.required = True
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in sorted(commands, key=lambda c: c.name):
        parts = command.name.split(" ", 1)
        if len(parts) == 1:
            sub = top.add_parser(parts[0], help=command.help, description=command.help)
        else:
            group, name = parts
            if group not in groups:
                group_parser = top.add_parser(group, help=f"{group} commands")
                groups[group] = group_parser.add_subparsers(dest=f"{group}_command",
                                                            metavar="SUBCOMMAND")
                groups[group].required = True
            sub = groups[group].add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(_run=command.run)
    return parser


def all_commands(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None
                 ) -> list[Command]:
    """Core commands plus those of the plugins the configuration enables.

    The configuration is the file named by ``--config FILE`` on the command line, if any,
    and the ``HYBRID_CALENDAR_PLUGINS__*`` environment, over the defaults; installed
    third-party plugins come in through their entry points. So a deployment that does not
    enable ``google_emulator`` has no ``emulator google`` command
    (``HYBRID_CALENDAR_PLUGINS__ENABLED=google_emulator hybrid-calendar emulator google``
    offers it). A configuration that cannot be read falls back to the defaults here; the
    command itself then reports the problem.
    """
    commands = core_commands()
    environ = dict(os.environ if environ is None else environ)
    try:
        file_values = config_module.read_file(Path(path)) if (path := _config_path(argv)) else {}
        pm = plugin_manager(file_values, environ, tolerate_missing=True)
    except (GatewayError, OSError):
        try:
            pm = plugin_manager({}, {}, tolerate_missing=True)
        except GatewayError:  # a broken installed plugin: the command itself reports it
            pm = plugin_manager({"plugins": {"load_entrypoints": False}}, {},
                                tolerate_missing=True)

    def register(name: str, help: str, configure: Configure, run: Run) -> None:
        commands.append(Command(name, help, configure, run))

    Hooks(pm).register_commands(register)
    return commands


def _config_path(argv: Sequence[str]) -> str | None:
    """The value of ``--config`` anywhere on the command line (before parsing it)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _rest = pre.parse_known_args(list(argv))
    return str(known.config) if known.config else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hybrid-calendar`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(all_commands(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args))
    except GatewayError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the environment: a file, directory or port it cannot use
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
