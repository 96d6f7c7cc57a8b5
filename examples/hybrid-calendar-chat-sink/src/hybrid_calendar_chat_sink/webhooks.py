"""Which Google Chat space receives whose Join buttons: the ``chat_sink.webhooks`` setting.

The setting is a secret holding a JSON object from a person's address to the incoming
webhook URL of their space (``https://chat.googleapis.com/v1/spaces/SPACE/messages?key=K&
token=T``; Chat shows it under the space's *Apps & integrations > Webhooks*). The URL's
token is a credential, so the map is a :class:`~hybrid_calendar.config.Secret`, usually
read from a private file with ``webhooks = "$file:/etc/hybrid-calendar/chat-webhooks.json"``,
and no message of this module repeats a URL or an address: entries are named by position.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

import httpx

from hybrid_calendar.config import Config, Secret
from hybrid_calendar.errors import ConfigError

SECTION = "chat_sink"
KEY = f"{SECTION}.webhooks"
MESSAGES_PATH = re.compile(r"^/v1/spaces/[^/]+/messages$")
"""The path of an incoming webhook (spaces.messages.create of the Chat API)."""


@dataclass(frozen=True)
class WebhookMap:
    """Lower-cased address -> incoming webhook URL, validated."""

    urls: dict[str, str]

    @classmethod
    def from_config(cls, config: Config) -> WebhookMap:
        """Parse and check ``chat_sink.webhooks``.

        :raises ConfigError: naming the key, the entry at fault and what is wrong.
        """
        secret = config.get(SECTION, "webhooks")
        text = secret.reveal() if isinstance(secret, Secret) else str(secret)
        if not text.strip():
            return cls({})
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(KEY, f"is not JSON ({err.msg} at line {err.lineno}); "
                                   'expected {"person@example.com": "https://chat.googleapis'
                                   '.com/v1/spaces/..."}') from None
        if not isinstance(raw, dict):
            raise ConfigError(KEY, "must be a JSON object from addresses to webhook URLs")
        urls: dict[str, str] = {}
        for position, (person, url) in enumerate(raw.items(), start=1):
            if not isinstance(person, str) or "@" not in person:
                raise ConfigError(KEY, f"entry {position}: the key must be an address")
            if not isinstance(url, str):
                raise ConfigError(KEY, f"entry {position}: the value must be a URL string")
            problem = url_problem(url)
            if problem:
                raise ConfigError(KEY, f"entry {position}: {problem}")
            urls[person.strip().lower()] = url
        return cls(urls)

    def for_person(self, email: str) -> str | None:
        """The webhook URL of ``email``'s space, or ``None`` when they have none."""
        return self.urls.get(email.strip().lower())


def url_problem(url: str) -> str | None:
    """What is wrong with an incoming webhook URL, or ``None``.

    HTTPS is required except on a loopback address (a local test double of Chat).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "the value is not a URL"
    if parsed.scheme != "https" and not (parsed.scheme == "http" and _loopback(parsed.host)):
        return "the webhook URL must use https"
    if not MESSAGES_PATH.match(parsed.path):
        return "the webhook URL's path must be /v1/spaces/SPACE/messages"
    if not parsed.params.get("key") or not parsed.params.get("token"):
        return "the webhook URL lacks its key or token parameter (copy the whole URL)"
    return None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
