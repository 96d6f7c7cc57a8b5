"""The ``local`` KMS's key file: versions of 256-bit key-encryption keys (KEKs).

Format (JSON, mode 0600)::

    {"format": "hybrid-calendar-kms-local", "current": "kek-v2",
     "keys": {"kek-v1": {"key": "<b64>", "created": "2026-11-27T15:00:00+00:00"}, ...}}

The file is created on first start with mode 0600 and refused if group or others can
read or write it. Rotation adds a version and rewrites the file atomically (temporary
file, fsync, rename, fsync of the directory) under an exclusive lock, so two rotations in
two processes cannot lose a version. A file changed by another process (``kms rotate``
while the gateway runs) is re-read when its size, inode or mtime changes.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hybrid_calendar.crypto.formats import NONCE_BYTES, TAG_BYTES
from hybrid_calendar.errors import DecryptionError, KeyManagementError
from hybrid_calendar.models import KmsStatus, WrappedKey
from hybrid_calendar_kms.common import key_ref, ref_version, wrap_aad

KMS_NAME = "local"
FORMAT = "hybrid-calendar-kms-local"
PREFIX = "kek"


def check_permissions(path: Path) -> os.stat_result:
    """Refuse a key file that is not a regular file or is open to group or others.

    :raises KeyManagementError: naming the file and the command that fixes it.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise KeyManagementError(
            f"local KMS key file {path} is missing; restore it from backup (without it "
            "stored data cannot be decrypted) or remove the database to start afresh"
        ) from None
    except OSError as err:
        raise KeyManagementError(f"local KMS key file {path} cannot be read: "
                                 f"{err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyManagementError(f"local KMS key file {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyManagementError(
            f"local KMS key file {path} has permissions {mode:04o}, readable or writable by "
            f"group or others; refusing to start. Fix: chmod 600 {path}")
    return info


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _new_version(keys: dict[str, Any], version: int) -> dict[str, Any]:
    keys = dict(keys)
    keys[key_ref(PREFIX, version)] = {
        "key": base64.b64encode(AESGCM.generate_key(256)).decode("ascii"),
        "created": datetime.now(UTC).isoformat()}
    return keys


class LocalKeyring:
    """KEK versions read from a key file; wraps with AES-256-GCM under the current one.

    :param path: the key file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._aeads: dict[str, AESGCM] = {}
        self._current: str | None = None
        self._seen: tuple[int, int, int] | None = None

    @classmethod
    def open(cls, path: Path, *, create: bool) -> LocalKeyring:
        """Load the key file, creating it (mode 0600, one KEK) if ``create`` and missing."""
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            body = {"format": FORMAT, "current": key_ref(PREFIX, 1),
                    "keys": _new_version({}, 1)}
            with contextlib.suppress(FileExistsError):  # another process won the race
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(json.dumps(body, indent=2).encode())
                    handle.flush()
                    os.fsync(handle.fileno())
        keyring = cls(path)
        keyring.refresh()
        return keyring

    @property
    def current(self) -> str:
        """Reference of the KEK new wraps use."""
        self.refresh()
        assert self._current is not None
        return self._current

    def refresh(self) -> None:
        """Re-read the file if it changed; check permissions every time."""
        info = check_permissions(self.path)
        seen = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            if seen == self._seen:
                return
            body = self._read()
            self._aeads = {ref: AESGCM(base64.b64decode(entry["key"]))
                           for ref, entry in body["keys"].items()}
            self._current = body["current"]
            self._seen = seen

    def _read(self) -> dict[str, Any]:
        try:
            body = json.loads(self.path.read_bytes())
            if body.get("format") != FORMAT or body["current"] not in body["keys"]:
                raise ValueError
            for entry in body["keys"].values():
                if len(base64.b64decode(entry["key"])) != 32:
                    raise ValueError
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyManagementError(f"local KMS key file {self.path} is damaged or not a "
                                     "key file; restore it from backup") from None
        return dict(body)

    def wrap(self, plaintext: bytes, context: bytes) -> WrappedKey:
        """Encrypt a data key under the current KEK; the blob is nonce ‖ ct ‖ tag."""
        ref = self.current
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + self._aeads[ref].encrypt(nonce, plaintext,
                                                wrap_aad(KMS_NAME, ref, context))
        return WrappedKey(kms=KMS_NAME, key_ref=ref, blob=blob)

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        """Decrypt a blob made by :meth:`wrap` with the same context."""
        self.refresh()
        aead = self._aeads.get(wrapped.key_ref)
        if aead is None:
            raise KeyManagementError(f"local KMS key version {wrapped.key_ref!r} is not in "
                                     f"{self.path} (destroyed, or a different key file)")
        if len(wrapped.blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("wrapped data key is truncated")
        try:
            return aead.decrypt(wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:],
                                wrap_aad(KMS_NAME, wrapped.key_ref, context))
        except InvalidTag:
            raise DecryptionError("wrapped data key does not authenticate under "
                                  f"{wrapped.key_ref} (wrong owner or tampered)") from None

    def rotate(self) -> str:
        """Add a KEK version, make it current, rewrite the file atomically."""
        with self._locked():
            check_permissions(self.path)
            body = self._read()
            versions = [v for ref in body["keys"] if (v := ref_version(ref, PREFIX))]
            version = max(versions, default=0) + 1
            body["keys"] = _new_version(body["keys"], version)
            body["current"] = key_ref(PREFIX, version)
            _write_atomic(self.path, json.dumps(body, indent=2).encode())
        self.refresh()
        return key_ref(PREFIX, version)

    def status(self) -> KmsStatus:
        """Healthy when the file is present, private and intact."""
        try:
            return KmsStatus(kms=KMS_NAME, healthy=True, current_key_ref=self.current)
        except KeyManagementError as err:
            return KmsStatus(kms=KMS_NAME, healthy=False, reason=str(err))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
