"""Built-in ``kms_pkcs11`` plugin: on-prem HSM through PKCS#11 (work in progress)."""
