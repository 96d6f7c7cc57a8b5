"""``hybrid-calendar kms rotate`` and ``hybrid-calendar kms status``, for whichever KMS
plugin is enabled (they use only the KMS hooks through :class:`GatewayKms`).

Both open the configured database and KMS next to a running gateway (SQLite in WAL mode
lets them share the file): ``rotate`` creates a new KEK version and rewraps every stored
data and index key while the gateway keeps serving; ``status`` reports the KMS's health
and how many stored keys each KEK version wraps.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import anyio

from hybrid_calendar.cli import Command
from hybrid_calendar.crypto import GatewayKms, rotate
from hybrid_calendar.gateway import Gateway


@asynccontextmanager
async def open_gateway(config_path: str | None) -> AsyncIterator[Gateway]:
    """Build the gateway from configuration (the app's builder) and open its store only.

    No plugin start-up hooks run: the command must not start syncing or listening.
    """
    from hybrid_calendar.builder import opened_gateway
    from hybrid_calendar.loading import load_config

    config, pm = load_config(config_path)
    async with opened_gateway(config, pm) as gateway:
        yield gateway


async def rotate_command(config_path: str | None) -> dict[str, Any]:
    """Rotate the KEK and rewrap every stored key; the report as a dict."""
    async with open_gateway(config_path) as gateway:
        report = await rotate(gateway)
    return asdict(report)


async def status_command(config_path: str | None) -> dict[str, Any]:
    """KMS health plus the number of stored keys per KEK version."""
    async with open_gateway(config_path) as gateway:
        status = await GatewayKms(gateway).status()
        keys = gateway.store.key_storage()
        await keys.migrate()
        counts = await keys.count_by_key_ref()
    return {**asdict(status), "stored_keys_by_key_ref": counts}


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")


def _run_rotate(args: argparse.Namespace) -> int:
    report = anyio.run(rotate_command, args.config)
    print(json.dumps(report, indent=2))
    return 0 if report["failed"] == 0 and report["remaining"] == 0 else 1


def _run_status(args: argparse.Namespace) -> int:
    status = anyio.run(status_command, args.config)
    print(json.dumps(status, indent=2))
    return 0 if status["healthy"] else 1


COMMANDS: list[Command] = [
    Command("kms rotate", "Create a new key-encryption key version and rewrap every data "
            "key (safe while the gateway runs).", _configure, _run_rotate),
    Command("kms status", "Show whether the KMS can wrap and unwrap, and which key "
            "versions wrap the stored keys.", _configure, _run_status),
]
