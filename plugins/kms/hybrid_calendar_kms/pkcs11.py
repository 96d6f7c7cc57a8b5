"""Built-in ``kms_pkcs11`` plugin: key-encryption keys in an on-prem HSM via PKCS#11.

The HDS-style option: the KEK is generated inside the token (SENSITIVE, non-extractable)
and never leaves it; data keys are wrapped and unwrapped by the token with AES-GCM. Tested
against SoftHSM2. Configure ``[kms_pkcs11] module, token_label, pin, key_label`` and
enable ``kms_pkcs11`` instead of ``kms_local`` in ``plugins.enabled``; keep the PIN out of
the file with ``pin = "$env:HSM_PIN"`` or ``pin = "$file:/run/secrets/hsm-pin"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio.to_thread

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, Secret, SettingSpec
from hybrid_calendar.errors import GatewayError, KeyManagementError
from hybrid_calendar.models import KmsStatus, WrappedKey
from hybrid_calendar_kms.hsm import KMS_NAME, HsmKeyring

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

SECTION = "kms_pkcs11"
STATE_KEY = "kms_pkcs11"
DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def make_keyring(config: Config) -> HsmKeyring:
    """A keyring from the ``[kms_pkcs11]`` settings.

    :raises KeyManagementError: the PIN is not configured.
    """
    pin = config.get(SECTION, "pin")
    revealed = pin.reveal() if isinstance(pin, Secret) else str(pin)
    if not revealed:
        raise KeyManagementError("kms_pkcs11.pin is not set; set it, preferably as "
                                 '"$env:NAME" or "$file:/path"')
    return HsmKeyring(config.get(SECTION, "module"), config.get(SECTION, "token_label"),
                      revealed, config.get(SECTION, "key_label"))


def keyring(gateway: Gateway) -> HsmKeyring:
    """This gateway's keyring (built on first use)."""
    return gateway.state.get_or_create(STATE_KEY, HsmKeyring,
                                       lambda: make_keyring(gateway.config))


def viable(config: Config) -> None:
    """Check the module loads, the token is present, the PIN logs in and AES-GCM exists.

    :raises KeyManagementError: with the reason.
    """
    make_keyring(config).check()


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """The module loads, the token is present, the PIN logs in, AES-GCM exists."""
    try:
        viable(config)
    except GatewayError as err:
        problem(f"{SECTION}.module", str(err))


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare ``kms_pkcs11.module``, ``token_label``, ``pin`` and ``key_label``."""
    register(SettingSpec(SECTION, "module", str, DEFAULT_MODULE,
                         help="Path of the HSM's PKCS#11 library."))
    register(SettingSpec(SECTION, "token_label", str, "hybrid-calendar",
                         help="Label of the token holding the key-encryption keys."))
    register(SettingSpec(SECTION, "pin", Secret, "",
                         help="User PIN of the token; use $env:NAME or $file:/path."))
    register(SettingSpec(SECTION, "key_label", str, "hybrid-calendar-kek",
                         help="Label prefix of the KEK objects (<key_label>-v<N>)."))


@hookimpl
async def startup(gateway: Gateway) -> None:
    """Open the token and generate KEK version 1 on first start; fail with the reason."""
    await anyio.to_thread.run_sync(keyring(gateway).ensure)


@hookimpl
def shutdown(gateway: Gateway) -> None:
    """Close the token session."""
    ring = gateway.state.pop(STATE_KEY, HsmKeyring)
    if ring is not None:
        ring.close()


@hookimpl
async def wrap_key(gateway: Gateway, plaintext: bytes, context: bytes) -> WrappedKey:
    """Wrap a data key with AES-GCM inside the token under the newest KEK."""
    return await anyio.to_thread.run_sync(keyring(gateway).wrap, plaintext, context)


@hookimpl
def unwrap_key(gateway: Gateway, wrapped: WrappedKey, context: bytes
               ) -> Awaitable[bytes] | None:
    """Unwrap a data key inside the token; pass (``None``) on other KMSs' keys."""
    if wrapped.kms != KMS_NAME:
        return None
    return anyio.to_thread.run_sync(keyring(gateway).unwrap, wrapped, context)


@hookimpl
async def rotate_master_key(gateway: Gateway) -> str:
    """Generate the next KEK version in the token; older versions stay for unwrapping."""
    return await anyio.to_thread.run_sync(keyring(gateway).rotate)


@hookimpl
async def kms_status(gateway: Gateway) -> KmsStatus:
    """Healthy when the token answers, the PIN logs in and a KEK exists."""
    try:
        ring = keyring(gateway)
    except KeyManagementError as err:
        return KmsStatus(kms=KMS_NAME, healthy=False, reason=str(err))
    return await anyio.to_thread.run_sync(ring.status)
