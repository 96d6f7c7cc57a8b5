"""The transit calls the plugin makes, and what Vault's answers mean.

==============================================  ===========================================
call                                            use
==============================================  ===========================================
``POST /v1/{mount}/encrypt/{key}``              wrap: ``plaintext`` and ``associated_data``
                                                (base64); answers ``ciphertext``
                                                (``vault:v<N>:...``) and ``key_version``
``POST /v1/{mount}/decrypt/{key}``              unwrap; 400 when the ciphertext or the
                                                associated data do not authenticate
``POST /v1/{mount}/keys/{key}/rotate``          a new key version, made current
``GET /v1/{mount}/keys/{key}``                  ``latest_version`` (status, after rotation)
==============================================  ===========================================

Every call carries ``X-Vault-Token``. Associated data needs Vault 1.13 or newer and an
AEAD key type (``aes256-gcm96``, the default). Errors become
:class:`~hybrid_calendar.errors.KeyManagementError` (or
:class:`~hybrid_calendar.errors.DecryptionError` for a 400 on decrypt) with Vault's
reason and what to do; the token never appears in one.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import httpx

from hybrid_calendar.config import Config, Secret
from hybrid_calendar.errors import ConfigError, DecryptionError, KeyManagementError

SECTION = "vault_transit"
CIPHERTEXT = re.compile(r"^vault:v(\d+):[A-Za-z0-9+/]+={0,2}$")
"""A transit ciphertext: ``vault:v<key version>:<base64 of nonce, ciphertext and tag>``."""


@dataclass(frozen=True)
class Transit:
    """Where the transit key is and how to reach it (from ``[vault_transit]``)."""

    address: str
    token: str
    mount: str
    key: str

    @classmethod
    def from_config(cls, config: Config) -> Transit | None:
        """The configured transit key, or ``None`` when ``vault_transit.address`` is empty.

        :raises ConfigError: the address is set but the token is not.
        """
        address = str(config.get(SECTION, "address")).rstrip("/")
        if not address:
            return None
        token = config.get(SECTION, "token")
        token_text = token.reveal() if isinstance(token, Secret) else str(token)
        if not token_text:
            raise ConfigError(f"{SECTION}.token", "is required when vault_transit.address "
                                                  'is set (e.g. "$file:/run/secrets/vault")')
        return cls(address, token_text, str(config.get(SECTION, "mount")).strip("/"),
                   str(config.get(SECTION, "key_name")))

    def url(self, *parts: str) -> str:
        """``{address}/v1/{mount}/...``."""
        return "/".join([self.address, "v1", self.mount, *parts])

    async def call(self, client: httpx.AsyncClient, method: str, *parts: str,
                   body: dict[str, Any] | None = None, decrypting: bool = False
                   ) -> dict[str, Any]:
        """One transit call; the ``data`` of its answer (empty for 204).

        :raises DecryptionError: decrypt answered 400 (wrong context, damaged blob).
        :raises KeyManagementError: any other failure, with what to do.
        """
        try:
            response = await client.request(method, self.url(*parts), json=body,
                                            headers={"X-Vault-Token": self.token})
        except httpx.TransportError as err:
            raise KeyManagementError(f"Vault at {self.address} is unreachable "
                                     f"({type(err).__name__})") from None
        if response.status_code == 204:
            return {}
        if response.is_success:
            data: dict[str, Any] = response.json().get("data") or {}
            return data
        reason = "; ".join(_errors(response)) or f"HTTP {response.status_code}"
        if decrypting and response.status_code == 400:
            raise DecryptionError(f"Vault could not decrypt the data key: {reason}")
        if response.status_code == 403:
            raise KeyManagementError(f"Vault refused the token: {reason} (its policy needs "
                                     f"update on {self.mount}/encrypt/{self.key}, "
                                     f"{self.mount}/decrypt/{self.key} and read on "
                                     f"{self.mount}/keys/{self.key})")
        if response.status_code == 404:
            raise KeyManagementError(
                f"Vault has no transit key {self.key!r} at {self.mount}/: create it with "
                f"`vault write -f {self.mount}/keys/{self.key} type=aes256-gcm96`")
        raise KeyManagementError(f"Vault answered HTTP {response.status_code}: {reason}")


def b64(data: bytes) -> str:
    """Standard base64, as transit expects."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Decode transit's base64."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def _errors(response: httpx.Response) -> list[str]:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return []
    return [str(error) for error in errors]
