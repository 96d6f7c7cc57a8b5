"""The core's own CLI commands: serve, demo, config check, plugins, docs hooks."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from hybrid_calendar.cli import Command
from hybrid_calendar.loading import load_config


def _configure_config_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="TOML configuration file to validate")


def _run_config_check(args: argparse.Namespace) -> int:
    from hybrid_calendar.admin.preflight import errors_of, preflight

    config, pm = load_config(args.file)
    problems = preflight(config, pm)
    for problem in problems:
        print(problem.line(), file=sys.stderr)
    if errors_of(problems):
        return 2
    print(f"{args.file}: OK")
    return 0


def _configure_config_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")


def _run_config_show(args: argparse.Namespace) -> int:
    from hybrid_calendar.loading import describe

    config, _pm = load_config(args.config)
    print(json.dumps(describe(config), indent=2, default=str))
    return 0


def _configure_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")


def _run_plugins(args: argparse.Namespace) -> int:
    from hybrid_calendar.engine.delivery import delivery_coverage
    from hybrid_calendar.hooks import Hooks
    from hybrid_calendar.plugins import plugin_listing

    _config, pm = load_config(args.config)
    print(json.dumps({"plugins": plugin_listing(pm),
                      "delivery": delivery_coverage(Hooks(pm))}, indent=2))
    return 0


def _generated_doc_options(default: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", default=default,
                            help=f"where to write it (default {default}; - for stdout)")
        parser.add_argument("--check", action="store_true",
                            help="exit 1 if the file differs from the generated text")
    return configure


def _run_docs_hooks(args: argparse.Namespace) -> int:
    from hybrid_calendar.docs import render_hooks_markdown

    return _write_generated(render_hooks_markdown(), args, "hooks")


def _run_docs_config(args: argparse.Namespace) -> int:
    from hybrid_calendar.docs import render_config_markdown

    return _write_generated(render_config_markdown(), args, "config")


def _write_generated(text: str, args: argparse.Namespace, name: str) -> int:
    if args.output == "-":
        print(text, end="")
        return 0
    target = Path(args.output)
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run `hybrid-calendar docs {name}`")
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--host", help="override gateway.host")
    parser.add_argument("--port", type=int, help="override gateway.port")


def _run_serve(args: argparse.Namespace) -> int:
    from hybrid_calendar.admin.preflight import announce_data_dir
    from hybrid_calendar.server import serve

    overrides: dict[str, dict[str, object]] = {"gateway": {}}
    if args.host:
        overrides["gateway"]["host"] = args.host
    if args.port is not None:
        overrides["gateway"]["port"] = args.port
    config, pm = load_config(args.config, overrides=overrides)
    announce_data_dir(config)
    return serve(config, pm)


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the demo keeps its database and keys, emptied at start "
                             "(default: $HYBRID_CALENDAR_DEMO_DIR or demo-data; a temporary "
                             "directory with --once)")
    parser.add_argument("--port", type=int, default=None,
                        help="gateway port (default 8080; a free port with --once)")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop after this many seconds (0: run until Ctrl-C)")
    parser.add_argument("--once", action="store_true",
                        help="walk through the demo, check every step against the "
                             "emulators, print a summary and exit (0 only if all passed)")


def _run_demo(args: argparse.Namespace) -> int:
    from hybrid_calendar.demo import run_demo

    return run_demo(args.data_dir, port=args.port, seconds=args.seconds, once=args.once)


def _configure_store_migrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (its SQLite database is "
                                         "the source)")
    parser.add_argument("--to", required=True, metavar="URL",
                        help="the PostgreSQL database to move to: postgresql://user@host/db")


def _run_store_migrate(args: argparse.Namespace) -> int:
    import anyio

    from hybrid_calendar.admin.datadir_lock import DataDirectoryLock
    from hybrid_calendar.builder import database_path, is_postgres_url
    from hybrid_calendar.errors import ConfigError

    config, _pm = load_config(args.config)
    source = database_path(config)
    if is_postgres_url(source) or source == ":memory:":
        raise ConfigError("gateway.database", "store migrate moves a SQLite database file; "
                                              f"this configuration uses {source.split('@')[-1]}")
    if not is_postgres_url(args.to):
        raise ConfigError("--to", "expected a postgresql:// URL")
    if not Path(source).exists():
        raise ConfigError("gateway.database", f"no SQLite database at {source}")
    from hybrid_calendar.store.postgres.copy import copy_sqlite_to_postgres

    with DataDirectoryLock(source) as lock:  # no gateway may write while it is copied
        lock.acquire("store migrate")
        report = anyio.run(copy_sqlite_to_postgres, source, args.to)
    print(json.dumps({"copied_rows": report.rows, "tables": report.tables}, indent=2))
    print(f"moved {report.rows} rows; set gateway.database to the PostgreSQL URL and "
          "start the gateways")
    return 0


COMMANDS: list[Command] = [
    Command("serve", "run the gateway (HTTP app and background engine)",
            _configure_serve, _run_serve),
    Command("demo", "walk through the gateway's mission against the bundled emulators, "
                    "then keep serving (--once: check every step and exit)",
            _configure_demo, _run_demo),
    Command("store migrate", "copy the SQLite database into an empty PostgreSQL database",
            _configure_store_migrate, _run_store_migrate),
    Command("config check", "validate a configuration file", _configure_config_check,
            _run_config_check),
    Command("config show", "print the effective configuration (secrets hidden)",
            _configure_config_show, _run_config_show),
    Command("plugins", "list loaded plugins, their hooks, and which notification kinds "
                       "have no sink", _configure_plugins, _run_plugins),
    Command("docs hooks", "generate docs/hooks.md from the hook docstrings",
            _generated_doc_options("docs/hooks.md"), _run_docs_hooks),
    Command("docs config", "generate docs/configuration.md from the declared settings",
            _generated_doc_options("docs/configuration.md"), _run_docs_config),
]
