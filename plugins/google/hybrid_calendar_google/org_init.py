"""``hybrid-calendar org init``: create an organisation with its service-account key.

Creates the organisation with its verified domains (409-style refusal if it exists),
stores the key as the organisation's encrypted ``google_service_account`` secret, and
prints, ready to paste, the client id, the exact scopes, and the Google Admin console
steps for domain-wide delegation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

from hybrid_calendar.errors import ConfigError
from hybrid_calendar_google.auth import ServiceAccount
from hybrid_calendar_google.context import ORG_SECRET_NAME


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``org init``."""
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--domain", action="append", required=True, metavar="DOMAIN",
                        help="a verified domain of the organisation (repeat for more; the "
                             "first is the primary)")
    parser.add_argument("--service-account", required=True, metavar="KEY.json",
                        help="service-account key JSON downloaded from Google Cloud")
    parser.add_argument("--public-url", required=True, metavar="URL",
                        help="the gateway's public https:// address (push channels)")
    parser.add_argument("--id", help="organisation id (default: the primary domain)")
    parser.add_argument("--name", default="", help="display name (default: the id)")


def read_key(path: str) -> tuple[str, ServiceAccount]:
    """The key file's text and parsed account; errors name the file."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ConfigError("--service-account", f"cannot read {path}: {err.strerror}") from None
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError("--service-account",
                          f"{path} is not a JSON service-account key") from None
    try:
        return text, ServiceAccount.from_info(info)
    except ConfigError as err:
        raise ConfigError("--service-account", f"{path}: {err}") from None


def instructions(client_id: str, scopes: tuple[str, ...], public_url: str) -> str:
    """What the administrator does next, ready to paste."""
    host = urlsplit(public_url).hostname or public_url
    return "\n".join([
        f"Client ID: {client_id or '(missing in the key file)'}",
        f"Scopes:    {','.join(scopes)}",
        "",
        "In the Google Admin console (admin.google.com), as a super administrator:",
        "  1. Security > Access and data control > API controls > Manage Domain Wide "
        "Delegation",
        "  2. Add new: paste the client ID and the scopes above (one line, comma-separated)",
        "  3. Authorise. Changes can take a few minutes (up to 24 h) to apply.",
        "In the Google Cloud project of the service account:",
        "  4. Enable the Google Calendar API and the Gmail API.",
        f"  5. Verify the domain {host} (Search Console) so Google sends push notifications "
        f"to {public_url.rstrip('/')}/webhooks/google.",
        "Then: hybrid-calendar users activate --org <id> alice@<domain>",
    ])


def run(args: argparse.Namespace) -> int:
    """Run ``org init``: 0 on success; config errors and an existing organisation exit 2
    with one line (raised to the CLI)."""
    from hybrid_calendar.admin import audit
    from hybrid_calendar.admin.org_setup import create_organisation, organisation_from
    from hybrid_calendar.builder import opened_gateway
    from hybrid_calendar.loading import load_config

    url = urlsplit(args.public_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError("--public-url", "must be an https:// URL")
    text, account = read_key(args.service_account)
    org = organisation_from(args.id or args.domain[0].lower(), args.name, args.domain)
    org = type(org)(id=org.id, name=org.name, domain=org.domain,
                    settings={**org.settings, "public_url": args.public_url})
    config, pm = load_config(args.config)
    scopes = tuple(config.get("google", "scopes"))

    async def work() -> None:
        async with opened_gateway(config, pm) as gateway:
            await create_organisation(gateway, org)
            await gateway.store.put_org_secret(org.id, ORG_SECRET_NAME, text)
            await audit.record(gateway, actor=audit.cli_actor(), action="org.init", target=org.id,
                               source="local", details={"domains": len(args.domain)})

    asyncio.run(work())
    print(f"created organisation {org.id} (domains: {', '.join(args.domain)}); its "
          "service-account key is stored encrypted.")
    print(instructions(account.client_id, scopes, args.public_url))
    return 0
