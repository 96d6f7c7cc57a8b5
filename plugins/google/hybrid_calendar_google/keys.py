"""``hybrid-calendar google import-key``: store a service-account key as an org secret.

The key JSON is validated (it must parse and carry a usable RSA private key), then stored
as the organisation's ``google_service_account`` secret: the store seals it with the
organisation's data key, which the configured KMS plugin wraps, so the key never rests in
clear on disk. The command prints the client ID to authorise for domain-wide delegation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_google.auth import ServiceAccount
from hybrid_calendar_google.context import ORG_SECRET_NAME


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``google import-key``."""
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--org", required=True, help="organisation id")
    parser.add_argument("key_file", help="service-account key JSON downloaded from Cloud")


async def import_key(config_path: str | None, org_id: str, text: str
                     ) -> tuple[str, tuple[str, ...]]:
    """Validate the key JSON ``text`` and store it for ``org_id``.

    :returns: the key's client ID and the configured scopes (``google.scopes``): what an
        admin must authorise for domain-wide delegation.
    """
    from hybrid_calendar.builder import opened_gateway
    from hybrid_calendar.loading import load_config

    account = ServiceAccount.from_info(json.loads(text))
    config, pm = load_config(config_path)
    async with opened_gateway(config, pm) as gateway:
        if await gateway.store.get_organisation(org_id) is None:
            raise GatewayError(f"unknown organisation {org_id!r}: create it first")
        await gateway.store.put_org_secret(org_id, ORG_SECRET_NAME, text)
    return account.client_id, tuple(config.get("google", "scopes"))


def run(args: argparse.Namespace) -> int:
    """Run ``google import-key``; exit status 0 on success, 2 on a reported error (one
    line naming the file or key at fault)."""
    try:
        text = Path(args.key_file).read_text()
        json.loads(text)
    except OSError as err:
        print(f"error: cannot read {args.key_file}: {err.strerror}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"error: {args.key_file} is not a JSON service-account key", file=sys.stderr)
        return 2
    try:
        client_id, scopes = asyncio.run(import_key(args.config, args.org, text))
    except GatewayError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"stored the service-account key of organisation {args.org} (encrypted).")
    print(f"Authorise client ID {client_id or '(missing in key)'} for domain-wide delegation "
          f"with the scopes: {','.join(scopes)}")
    return 0
