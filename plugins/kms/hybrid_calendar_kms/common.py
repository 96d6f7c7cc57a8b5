"""Helpers shared by the built-in KMS plugins: key references and wrap associated data."""

from __future__ import annotations

import re

from hybrid_calendar.crypto.formats import encode_parts

_VERSION = re.compile(r"^(?P<prefix>.+)-v(?P<version>[1-9][0-9]*)$")


def key_ref(prefix: str, version: int) -> str:
    """``<prefix>-v<version>``, e.g. ``kek-v3``: names one KEK version."""
    return f"{prefix}-v{version}"


def ref_version(ref: str, prefix: str) -> int | None:
    """The version number of a reference made by :func:`key_ref`, or ``None``."""
    match = _VERSION.match(ref)
    if match is None or match["prefix"] != prefix:
        return None
    return int(match["version"])


def wrap_aad(kms: str, ref: str, context: bytes) -> bytes:
    """Associated data of a wrapped key: the KMS, the KEK version and the core's context.

    Binding the KEK version stops a blob from being relabelled as another version's.
    """
    return encode_parts("hybrid-calendar/kek/1", kms, ref, context)
