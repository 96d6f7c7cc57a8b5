"""Exceptions raised by the gateway core and its plugins.

Every exception the gateway raises on purpose derives from :class:`GatewayError`::

    GatewayError
    ├── ConfigError                 a configuration key is missing, unknown or invalid
    ├── PluginError                 a plugin failed to import, register or answer
    ├── StoreError                  the database could not be opened, migrated or written
    │   ├── NotFoundError           a row that must exist does not
    │   └── StorageUnavailableError the data directory takes no writes (disk full, read-only)
    ├── ProviderError               a calendar provider call failed
    │   ├── AuthError               credentials rejected (HTTP 401, token grant refused)
    │   ├── AccessDeniedError       the user's calendar may not be read (HTTP 403, DWD revoked)
    │   ├── RateLimitError          the provider asked us to slow down (403 rate limit, 429)
    │   ├── TransientError          a retryable server failure (5xx, network)
    │   ├── SyncTokenExpiredError   the sync cursor is no longer valid (HTTP 410): full sync
    │   └── PreconditionFailedError the resource changed since it was read (HTTP 412)
    ├── SinkError                   a meeting service (Webex, ...) call failed
    └── KeyManagementError          the KMS refused, is unreachable or a ciphertext is invalid
        └── DecryptionError         a ciphertext failed authentication (wrong key, moved, tampered)

Messages say what to do next and never contain secrets, email addresses or event text.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """A configuration key is missing, unknown or has an invalid value.

    :ivar key: the dotted key at fault, e.g. ``"sync.max_concurrency"``.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class PluginError(GatewayError):
    """A plugin failed to import, register or answer a hook.

    :ivar plugin: the plugin's name (built-in name or entry-point name).
    """

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


class StoreError(GatewayError):
    """The database could not be opened, migrated or written."""


class NotFoundError(StoreError):
    """A row that must exist does not."""


class StorageUnavailableError(StoreError):
    """The data directory takes no writes (disk full, read-only): the engine takes no
    work until it does (:mod:`hybrid_calendar.engine.storage`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"storage unavailable: {reason}; free space or restore write "
                         "permission in the data directory")
        self.reason = reason


class ProviderError(GatewayError):
    """A calendar provider call failed.

    :ivar status: the HTTP status, when there was one.
    :ivar reason: the provider's machine-readable reason (e.g. ``"rateLimitExceeded"``).
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class AuthError(ProviderError):
    """Credentials were rejected: HTTP 401 or a refused token grant."""


class AccessDeniedError(ProviderError):
    """The user's calendar may not be read: delegation revoked, user suspended or unknown."""


class RateLimitError(ProviderError):
    """The provider asked the gateway to slow down (403 rate-limit reasons, 429)."""


class TransientError(ProviderError):
    """A retryable failure: 5xx or a network error."""


class SyncTokenExpiredError(ProviderError):
    """The sync cursor is no longer valid (HTTP 410): wipe and do a full sync."""


class PreconditionFailedError(ProviderError):
    """The resource changed since it was read (HTTP 412): re-read and retry."""


class SinkError(GatewayError):
    """A meeting service (Webex, ...) call failed."""


class KeyManagementError(GatewayError):
    """The key management service refused, is unreachable, or a key is unusable."""


class DecryptionError(KeyManagementError):
    """A ciphertext failed authentication: wrong key, moved to another row, or tampered."""
