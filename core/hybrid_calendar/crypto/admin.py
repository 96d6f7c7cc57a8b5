"""Operations on a whole gateway's keys, for the ``kms`` commands and the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid_calendar.crypto.cipher import FieldCipher, RotationReport
from hybrid_calendar.crypto.repository import KeyStorage

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


async def rotate(gateway: Gateway, keys: KeyStorage | None = None) -> RotationReport:
    """Rotate the KMS key-encryption key and rewrap every stored data and index key.

    Uses the gateway's own cipher (:attr:`Gateway.cipher`, keys in the gateway's store);
    with ``keys``, a cipher over that repository instead (through the same KMS).
    """
    if keys is None:
        return await gateway.cipher.rotate_master_key()
    cipher = FieldCipher(gateway.kms, keys, gateway.clock)
    try:
        return await cipher.rotate_master_key()
    finally:
        await cipher.aclose()
