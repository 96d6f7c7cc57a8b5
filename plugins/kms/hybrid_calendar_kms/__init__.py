"""Key management plugins: ``local`` (a key file, the default) and ``pkcs11`` (an on-prem HSM)."""
