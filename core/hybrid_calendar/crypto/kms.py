"""How the envelope layer reaches the key management service.

:class:`KmsAccess` is the small interface :class:`~hybrid_calendar.crypto.FieldCipher`
needs; :class:`GatewayKms` implements it over a running gateway's KMS hooks
(``wrap_key``, ``unwrap_key``, ``rotate_master_key``, ``kms_status``). Every failure
reaches the caller as :class:`~hybrid_calendar.errors.KeyManagementError` (or its
subclass :class:`~hybrid_calendar.errors.DecryptionError`), never as clear text.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol, TypeVar

from hybrid_calendar.errors import KeyManagementError, PluginError
from hybrid_calendar.models import KmsStatus, WrappedKey

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

T = TypeVar("T")


class KmsAccess(Protocol):
    """Wrap, unwrap and rotate data keys; report health."""

    async def wrap(self, plaintext: bytes, context: bytes) -> WrappedKey:
        """Wrap a 32-byte key under the current key-encryption key."""
        ...

    async def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        """Unwrap a key wrapped with the same ``context``."""
        ...

    async def rotate(self) -> str:
        """Create and activate a new key-encryption key version; return its reference."""
        ...

    async def status(self) -> KmsStatus:
        """Whether the KMS can wrap and unwrap right now."""
        ...


class GatewayKms:
    """:class:`KmsAccess` over a gateway's KMS hooks.

    :param gateway: the running gateway whose enabled KMS plugin answers the hooks.
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def wrap(self, plaintext: bytes, context: bytes) -> WrappedKey:
        """Call ``wrap_key``."""
        return await _guard("wrap", self._gateway.hooks.wrap_key(self._gateway, plaintext,
                                                                 context))

    async def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        """Call ``unwrap_key``."""
        key = await _guard("unwrap", self._gateway.hooks.unwrap_key(self._gateway, wrapped,
                                                                    context))
        if not isinstance(key, bytes) or len(key) != 32:
            raise KeyManagementError("KMS unwrap returned something other than a 32-byte key")
        return key

    async def rotate(self) -> str:
        """Call ``rotate_master_key``."""
        return await _guard("rotate", self._gateway.hooks.rotate_master_key(self._gateway))

    async def status(self) -> KmsStatus:
        """Call ``kms_status``; an absent or failing plugin is reported unhealthy."""
        try:
            status = await self._gateway.hooks.kms_status(self._gateway)
        except Exception as err:
            return KmsStatus(kms="unknown", healthy=False,
                             reason=f"kms_status failed: {type(err).__name__}: {err}")
        if status is None:
            return KmsStatus(kms="none", healthy=False,
                             reason="no KMS plugin is enabled (add kms_local or kms_pkcs11 "
                                    "to plugins.enabled)")
        return status


async def _guard(operation: str, call: Awaitable[T]) -> T:
    """Await a KMS hook call, translating every failure into KeyManagementError."""
    try:
        return await call
    except KeyManagementError:
        raise
    except PluginError as err:
        raise KeyManagementError(f"KMS {operation} failed: no KMS plugin answered ({err}); "
                                 "is the KMS plugin that wrapped this key enabled?") from err
    except Exception as err:
        raise KeyManagementError(f"KMS {operation} failed: {type(err).__name__}") from err
