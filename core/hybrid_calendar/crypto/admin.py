"""Operations on a whole gateway's keys, for the ``kms`` commands and the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid_calendar.crypto.cipher import FieldCipher, RotationReport
from hybrid_calendar.crypto.kms import GatewayKms
from hybrid_calendar.crypto.repository import KeyRepository

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway


def gateway_cipher(gateway: Gateway) -> FieldCipher | None:
    """The gateway's field cipher: ``gateway.state["cipher"]`` (set by the builder)."""
    cipher = gateway.state.get("cipher")
    return cipher if isinstance(cipher, FieldCipher) else None


async def rotate(gateway: Gateway, keys: KeyRepository | None = None) -> RotationReport:
    """Rotate the KMS key-encryption key and rewrap every stored data and index key.

    Uses the gateway's own :class:`FieldCipher` when it has one (``state["cipher"]``);
    otherwise builds one over ``keys`` (default: ``KeyRepository(gateway.store.call)``).
    """
    cipher = gateway_cipher(gateway) if keys is None else None
    if cipher is not None:
        return await cipher.rotate_master_key()
    repository = keys if keys is not None else KeyRepository(gateway.store.call)
    cipher = FieldCipher(GatewayKms(gateway), repository, gateway.clock)
    try:
        return await cipher.rotate_master_key()
    finally:
        await cipher.aclose()
