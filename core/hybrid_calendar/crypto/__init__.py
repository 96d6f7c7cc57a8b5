"""Envelope encryption of sensitive fields with per-user data keys.

``FieldCipher`` hands out synchronous ``Sealer`` objects per owner, computes keyed blind
indexes and rotates keys; ``GatewayKms`` reaches the KMS plugin through the gateway's
hooks; ``KeyStorage`` is where wrapped keys and counters live (each store backend provides one;
SQLite's is ``KeyRepository``, migration set ``crypto``).
See ``docs/security.md``.
"""

from hybrid_calendar.crypto.admin import rotate
from hybrid_calendar.crypto.cipher import FieldCipher, FirstKey, RotationReport
from hybrid_calendar.crypto.kms import GatewayKms, KmsAccess
from hybrid_calendar.crypto.repository import (
    DbRunner,
    KeyRecord,
    KeyRepository,
    KeyStorage,
    migrations,
)
from hybrid_calendar.crypto.sealer import Sealer, compute_blind_index, normalise

__all__ = [
    "DbRunner",
    "FieldCipher",
    "FirstKey",
    "GatewayKms",
    "KeyRecord",
    "KeyRepository",
    "KeyStorage",
    "KmsAccess",
    "RotationReport",
    "Sealer",
    "compute_blind_index",
    "migrations",
    "normalise",
    "rotate",
]
