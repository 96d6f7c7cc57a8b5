"""Identifiers as Webex forms them, plus generated numbers, links and passwords.

Webex REST ids are base64 of ``ciscospark://us/<TYPE>/<uuid>`` without padding; meeting
ids are 32 hex digits (scheduled occurrences add ``_<start UTC>``); tracking ids look like
``ROUTER_<UUID>``.
"""

from __future__ import annotations

import base64
import random
import string
import uuid


def encode_id(kind: str, raw: str) -> str:
    """A Webex REST id for ``kind`` (``PEOPLE``, ``ROOM``, ...) and a raw uuid."""
    text = f"ciscospark://us/{kind}/{raw}".encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_id(value: str) -> tuple[str, str] | None:
    """``(kind, raw)`` of a Webex REST id, or ``None`` when it is not one."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    parts = text.split("/")
    if len(parts) != 5 or parts[0] != "ciscospark:":
        return None
    return parts[3], parts[4]


class IdFactory:
    """Generates ids, numbers and passwords from one random source (seedable)."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)

    def uuid(self) -> str:
        """A random (or seeded) UUID string."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def webex_id(self, kind: str) -> str:
        """A new REST id of ``kind``."""
        return encode_id(kind, self.uuid())

    def hex32(self) -> str:
        """32 hex digits (meeting ids, MTIDs)."""
        return f"{self.random.getrandbits(128):032x}"

    def digits(self, count: int, first: str = "") -> str:
        """A number of ``count`` digits starting with ``first``."""
        rest = "".join(self.random.choice(string.digits) for _ in range(count - len(first)))
        return first + rest

    def password(self) -> str:
        """A meeting password like Webex's generated ones (8 characters, mixed)."""
        letters = [self.random.choice(string.ascii_uppercase),
                   self.random.choice(string.ascii_lowercase),
                   self.random.choice(string.digits), self.random.choice("@#$")]
        letters += [self.random.choice(string.ascii_letters + string.digits)
                    for _ in range(4)]
        self.random.shuffle(letters)
        return "".join(letters)


def tracking_id() -> str:
    """A fresh ``trackingId``."""
    return f"ROUTER_{str(uuid.uuid4()).upper()}"
