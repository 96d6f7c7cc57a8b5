"""The hook implementations of the ``vault_transit`` KMS plugin (its entry point).

==========================  ================================================================
hook                        here
==========================  ================================================================
``register_settings``       ``[vault_transit]`` address, token (secret), mount, key_name
``check_config``            a token must come with the address; the address is HTTPS
``startup``                 the transit key must exist (else the start stops, saying how to
                            create it)
``wrap_key``                ``transit/encrypt`` with the context as associated data
``unwrap_key``              ``transit/decrypt``; ``None`` for keys another KMS wrapped
``rotate_master_key``       ``transit/keys/<key>/rotate``; old versions keep decrypting
``kms_status``              the key's latest version, or why Vault cannot be used
==========================  ================================================================

With ``vault_transit.address`` empty the plugin answers nothing, so installing it changes
nothing until it is configured. A deployment wraps with one KMS: take ``kms_local`` out
of ``plugins.enabled`` when this one is configured (the built-ins answer first).

A wrapped key is ``WrappedKey(kms="vault_transit", key_ref="v<N>", blob=<the ciphertext
Vault returned>)``; unwrapping checks that the version inside the ciphertext is the one
``key_ref`` names, so a blob cannot be relabelled as another version.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import httpx

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, Secret, SettingSpec
from hybrid_calendar.errors import ConfigError, DecryptionError, KeyManagementError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import KmsStatus, WrappedKey
from hybrid_calendar_vault_kms.transit import CIPHERTEXT, SECTION, Transit, b64, unb64

KMS_NAME = "vault_transit"
"""The name stored with every key this plugin wrapped (``WrappedKey.kms``)."""


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare the ``[vault_transit]`` settings."""
    register(SettingSpec(SECTION, "address", str, "",
                         help="Vault's address, e.g. https://vault.acme.com:8200 (empty: "
                              "the plugin is off)."))
    register(SettingSpec(SECTION, "token", Secret, "",
                         help='A Vault token allowed to use the transit key; usually '
                              '"$file:/run/secrets/vault-token".'))
    register(SettingSpec(SECTION, "mount", str, "transit",
                         help="Where the transit engine is mounted."))
    register(SettingSpec(SECTION, "key_name", str, "hybrid-calendar",
                         help="The transit key (type aes256-gcm96) that wraps data keys."))


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """A token with the address, and HTTPS unless Vault listens on loopback."""
    try:
        transit = Transit.from_config(config)
    except ConfigError as err:
        problem(err.key, str(err).removeprefix(f"{err.key}: "))
        return
    if transit is None:
        return
    url = httpx.URL(transit.address)
    if url.scheme != "https" and not _loopback(url.host):
        problem(f"{SECTION}.address", "must be https:// (data keys travel to Vault)")


def _transit(gateway: Gateway) -> Transit | None:
    return gateway.state.get_or_create(KMS_NAME, _Configured,
                                       lambda: _Configured(Transit.from_config(
                                           gateway.config))).transit


class _Configured:
    """The parsed settings, kept in ``gateway.state`` under the plugin's name."""

    def __init__(self, transit: Transit | None) -> None:
        self.transit = transit


@hookimpl
async def startup(gateway: Gateway) -> None:
    """Stop the start when the transit key cannot be read (missing key, refused token)."""
    transit = _transit(gateway)
    if transit is not None:
        await transit.call(gateway.http_client(), "GET", "keys", transit.key)


@hookimpl
def wrap_key(gateway: Gateway, plaintext: bytes, context: bytes
             ) -> Awaitable[WrappedKey] | None:
    """Encrypt a data key with the transit key's latest version."""
    transit = _transit(gateway)
    if transit is None:
        return None
    return _wrap(gateway, transit, plaintext, context)


async def _wrap(gateway: Gateway, transit: Transit, plaintext: bytes, context: bytes
                ) -> WrappedKey:
    data = await transit.call(gateway.http_client(), "POST", "encrypt", transit.key,
                              body={"plaintext": b64(plaintext),
                                    "associated_data": b64(context)})
    ciphertext = str(data.get("ciphertext", ""))
    match = CIPHERTEXT.match(ciphertext)
    if match is None:
        raise KeyManagementError("Vault's encrypt answer holds no transit ciphertext")
    return WrappedKey(KMS_NAME, f"v{match.group(1)}", ciphertext.encode("ascii"))


@hookimpl
def unwrap_key(gateway: Gateway, wrapped: WrappedKey, context: bytes
               ) -> Awaitable[bytes] | None:
    """Decrypt a data key this plugin wrapped; ``None`` for other KMSs' keys."""
    if wrapped.kms != KMS_NAME:
        return None
    transit = _transit(gateway)
    if transit is None:
        raise KeyManagementError("a data key was wrapped by Vault but vault_transit.address "
                                 "is not set")
    return _unwrap(gateway, transit, wrapped, context)


async def _unwrap(gateway: Gateway, transit: Transit, wrapped: WrappedKey, context: bytes
                  ) -> bytes:
    try:
        ciphertext = wrapped.blob.decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("the wrapped key is not a transit ciphertext") from None
    match = CIPHERTEXT.match(ciphertext)
    if match is None:
        raise DecryptionError("the wrapped key is not a transit ciphertext")
    if f"v{match.group(1)}" != wrapped.key_ref:
        raise DecryptionError(f"the wrapped key says {wrapped.key_ref} but its ciphertext "
                              f"is of version v{match.group(1)}")
    data = await transit.call(gateway.http_client(), "POST", "decrypt", transit.key,
                              body={"ciphertext": ciphertext,
                                    "associated_data": b64(context)}, decrypting=True)
    try:
        return unb64(str(data["plaintext"]))
    except (KeyError, ValueError):
        raise KeyManagementError("Vault's decrypt answer holds no plaintext") from None


@hookimpl
def rotate_master_key(gateway: Gateway) -> Awaitable[str] | None:
    """Rotate the transit key; return the new version's reference (``v<N>``)."""
    transit = _transit(gateway)
    if transit is None:
        return None
    return _rotate(gateway, transit)


async def _rotate(gateway: Gateway, transit: Transit) -> str:
    await transit.call(gateway.http_client(), "POST", "keys", transit.key, "rotate")
    return f"v{await _latest_version(gateway, transit)}"


@hookimpl
def kms_status(gateway: Gateway) -> Awaitable[KmsStatus] | None:
    """Healthy while Vault answers with the key's latest version."""
    transit = _transit(gateway)
    if transit is None:
        return None
    return _status(gateway, transit)


async def _status(gateway: Gateway, transit: Transit) -> KmsStatus:
    try:
        version = await _latest_version(gateway, transit)
    except KeyManagementError as err:
        return KmsStatus(kms=KMS_NAME, healthy=False, reason=str(err))
    return KmsStatus(kms=KMS_NAME, healthy=True, current_key_ref=f"v{version}")


async def _latest_version(gateway: Gateway, transit: Transit) -> int:
    data = await transit.call(gateway.http_client(), "GET", "keys", transit.key)
    try:
        return int(data["latest_version"])
    except (KeyError, TypeError, ValueError):
        raise KeyManagementError("Vault's key answer holds no latest_version") from None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
