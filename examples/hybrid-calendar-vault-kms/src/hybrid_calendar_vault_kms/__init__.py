"""Data keys wrapped by HashiCorp Vault's transit engine: an example third-party KMS plugin.

The key-encryption key never leaves Vault: the gateway sends a data key to
``transit/encrypt`` with the wrap context as associated data and keeps the ciphertext.
Modules: :mod:`~hybrid_calendar_vault_kms.plugin` (the hook implementations, the entry
point) and :mod:`~hybrid_calendar_vault_kms.transit` (the five transit calls).
"""

__version__ = "0.1.0"
