"""Wire formats of the envelope layer: field tokens and the associated data they bind.

A sealed field is a token ``v1.<key_id>.<generation>.<b64url(nonce ‖ ciphertext ‖ tag)>``:
the format version, which data key (and its generation) sealed it, a random 96-bit nonce
and the AES-256-GCM output. The GCM associated data is a canonical, length-prefixed
encoding of the organisation, user, table, row, column, key id and generation, so a token
copied to another row, field, user or organisation fails to authenticate.

Wrapped data keys are bound to their owner the same way (:func:`wrap_context`): a wrapped
key copied to another user's row does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from dataclasses import dataclass

from hybrid_calendar.errors import DecryptionError

_urlsafe_b64encode: Callable[[bytes], bytes] = base64.urlsafe_b64encode
"""The standard library's base64url encoder, or pybase64's (the same bytes, faster)."""
_strict_b64decode: Callable[[str], bytes] | None = None
"""pybase64's validating base64url decoder (``None`` without pybase64)."""
try:  # a dependency (pyproject.toml); a virtual environment made before it was added
    import pybase64  # keeps the standard library's coders: the same tokens, slower

    def _pybase64_strict(text: str) -> bytes:
        return pybase64.b64decode(text, altchars=b"-_", validate=True)

    _urlsafe_b64encode, _strict_b64decode = pybase64.urlsafe_b64encode, _pybase64_strict
except ImportError:  # pragma: no cover - only in such an environment
    pass

TOKEN_VERSION = "v1"
"""First element of every field token."""

NONCE_BYTES = 12
"""Random 96-bit GCM nonce (NIST SP 800-38D §8.2.2)."""

TAG_BYTES = 16
"""Full 128-bit GCM tag."""

ORG_OWNER = ""
"""Stored ``user_id`` of an organisation's own keys (service-account key, blind index)."""


def encode_parts(*parts: str | int | bytes) -> bytes:
    """Canonical encoding: each part as a 4-byte big-endian length then its bytes.

    Unambiguous for any content (no separator can be forged by a value containing it).
    """
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, int):
            data = str(part).encode("ascii")
        else:
            data = part.encode("utf-8")
        out += len(data).to_bytes(4, "big")
        out += data
    return bytes(out)


def owner_id(user_id: str | None) -> str:
    """The stored owner of a key: the user id, or :data:`ORG_OWNER` for the organisation."""
    if user_id is None:
        return ORG_OWNER
    if not user_id:
        raise ValueError("user_id must be a non-empty string or None (organisation key)")
    return user_id


def wrap_context(org_id: str, user_id: str, purpose: str, key_id: str, generation: int) -> bytes:
    """Associated data given to the KMS when wrapping a data or index key."""
    return encode_parts("hybrid-calendar/key/1", org_id, user_id, purpose, key_id, generation)


def field_aad_head(org_id: str, user_id: str, key_id: str, generation: int) -> bytes:
    """The part of a field's associated data fixed per owner and key (precomputed)."""
    return encode_parts("hybrid-calendar/field/1", org_id, user_id, key_id, generation)


def field_aad(head: bytes, table: str, row_id: str, column: str) -> bytes:
    """Full associated data of one field: the owner/key head plus table, row and column
    (``head + encode_parts(table, row_id, column)``; the few table and column names'
    encodings are kept, which saves ≈ 1 µs of every seal and open)."""
    row = row_id.encode("utf-8")
    return b"".join((head, _fixed_part(table), len(row).to_bytes(4, "big"), row,
                     _fixed_part(column)))


@functools.lru_cache(maxsize=256)
def _fixed_part(name: str) -> bytes:
    """:func:`encode_parts` of one table or column name."""
    return encode_parts(name)


def token_prefix(key_id: str, generation: int) -> str:
    """``v1.<key_id>.<generation>.``: the clear header of every token of one key."""
    return f"{TOKEN_VERSION}.{key_id}.{generation}."


def b64e(data: bytes) -> str:
    """Unpadded base64url (every token's body: pybase64's SIMD encoder when installed,
    ≈ 1 µs for a meeting's token against ≈ 3–4 µs for the standard library's; the same
    text, checked by a property test)."""
    return _urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Decode unpadded base64url; raises ``binascii.Error``/``ValueError`` on bad input.

    Text of the base64url alphabet alone, correctly padded (every token :func:`b64e`
    wrote; the standard alphabet's ``+`` and ``/`` are not let through), is decoded by
    pybase64's validating decoder (a meeting's token opens in ≈ 6 instead of ≈ 15 µs);
    anything else by the standard library's, as before, so results and errors are the
    standard library's for every text (a property test checks it)."""
    padded = text + "=" * (-len(text) % 4)
    if _strict_b64decode is not None and "+" not in text and "/" not in text:
        try:
            return _strict_b64decode(padded)
        except ValueError:  # binascii.Error is one: left to the lenient decoder below
            pass
    return base64.urlsafe_b64decode(padded)


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A field token split into its parts (nothing decrypted yet)."""

    key_id: str
    generation: int
    nonce: bytes
    ciphertext: bytes
    """GCM ciphertext followed by the 16-byte tag."""


def parse_token(token: str) -> ParsedToken:
    """Split a token; raises :class:`DecryptionError` (without echoing it) if malformed."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != TOKEN_VERSION:
        raise DecryptionError("not a sealed field of a known format (expected v1 token)")
    try:
        generation = int(parts[2])
        raw = b64d(parts[3])
    except (ValueError, binascii.Error):
        raise DecryptionError("sealed field is malformed") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("sealed field is truncated")
    return ParsedToken(parts[1], generation, raw[:NONCE_BYTES], raw[NONCE_BYTES:])
