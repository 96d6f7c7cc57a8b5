"""Built-in ``kms_local`` plugin: key file keyring (work in progress)."""
