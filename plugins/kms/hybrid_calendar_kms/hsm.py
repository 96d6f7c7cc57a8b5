"""Key-encryption keys inside a PKCS#11 token (an HSM, or SoftHSM2 in tests).

Each KEK version is an AES-256 secret key object generated in the token with
``SENSITIVE=True, EXTRACTABLE=False`` and labelled ``<key_label>-v<N>``; its value never
leaves the token. A data key is wrapped by ``C_Encrypt`` with ``CKM_AES_GCM`` inside the
token: random 96-bit IV, the core's context (plus the KEK version) as associated data,
128-bit tag; the blob is ``IV ‖ ciphertext ‖ tag``.

Many tokens allow one logged-in session per process, so every keyring of a process
shares one session per (module, token) behind a lock. The calls block: the plugin runs
them in a worker thread.

PKCS#11 cannot create an object only if none has its label, so processes starting
together on a fresh token (or two rotations at once) may each generate a KEK with the
same label: every object carrying a version's label is kept, and unwrapping tries each
of them (the GCM tag tells which one wrapped the key). A PIN the token refused is not
tried again in this process (the PIN is read from configuration once, and a real HSM
locks its PIN after a few wrong tries).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Attribute, GCMParams, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from hybrid_calendar.errors import DecryptionError, KeyManagementError
from hybrid_calendar.models import KmsStatus, WrappedKey
from hybrid_calendar_kms.common import key_ref, ref_version, wrap_aad

KMS_NAME = "pkcs11"
T = TypeVar("T")

_AUTHENTICATION_FAILURES = (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange,
                            p11.GeneralError, p11.FunctionFailed)
"""What tokens raise when a GCM tag does not verify (SoftHSM2: CKR_GENERAL_ERROR)."""

class _Vanished(Exception):
    """The token listed no KEK of a label this process has seen a version of."""


_CHANGED_MEANWHILE = (p11.ObjectHandleInvalid, _Vanished)
"""Another process stored or destroyed an object on the token while this one listed or
read its objects (SoftHSM's file store: processes starting together on a fresh token each
generate a KEK): a stale handle, or a listing without the KEK this process saw. The token
is fine, so the operation runs again on a fresh session."""
ATTEMPTS = 5
SETTLE_SECONDS = 0.2
"""How long after generating a KEK this process looks for it again (see ``ensure``)."""

_PIN_REFUSALS = (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinLocked,
                 p11.PinExpired)
"""Login failures that the same PIN will meet again."""


@dataclass
class _Shared:
    """One session per (module, token) for the whole process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    session: Any = None
    keys: dict[str, list[Any]] = field(default_factory=dict)
    """KEK objects by reference (``<label>-v<N>``; more than one when processes generated
    a version at once), valid while ``session`` is."""
    pin_refused: str | None = None
    """Why the token refused this PIN (then it is not offered again)."""
    seen: set[str] = field(default_factory=set)
    """KEK labels this process has seen (or made) a version of."""


log = logging.getLogger(__name__)

_SHARED: dict[tuple[str, str, str], _Shared] = {}
_SHARED_LOCK = threading.Lock()


class HsmKeyring:
    """KEK versions in a PKCS#11 token.

    :param module: path of the PKCS#11 library, e.g. ``/usr/lib/softhsm/libsofthsm2.so``.
    :param token_label: label of the token holding the KEKs.
    :param pin: the token's user PIN.
    :param key_label: label prefix of the KEK objects (``<key_label>-v<N>``).
    """

    def __init__(self, module: str, token_label: str, pin: str, key_label: str) -> None:
        self.module = module
        self.token_label = token_label
        self.key_label = key_label
        self._pin = pin
        pin_id = hashlib.sha256(pin.encode()).hexdigest()[:16]
        with _SHARED_LOCK:
            self._shared = _SHARED.setdefault((module, token_label, pin_id), _Shared())

    # ------------------------------------------------------------------ operations
    def ensure(self) -> str:
        """Check the token is usable and holds a KEK, generating version 1 on first start.

        A version this process generated is looked for again after
        :data:`SETTLE_SECONDS`, on a fresh session, before anything is wrapped under it:
        SoftHSM's file store can lose one of two objects that processes starting together
        create at once, and a data key wrapped under a lost KEK could never be opened. A
        lost one is made again, or the version another process kept is used."""
        def run(session: Any) -> tuple[str, bytes | None]:
            versions = self._versions(session)
            if not versions:
                return self._generate(session, 1)
            return key_ref(self.key_label, max(versions)), None

        for _ in range(ATTEMPTS):
            ref, made = self._call("start", run)
            if made is None:
                return ref
            time.sleep(SETTLE_SECONDS)
            self.close()  # the next look is on a fresh session
            if self._call("start", functools.partial(self._holds, object_id=made)):
                return ref
            log.warning("KEK %s generated on token %r is not on it any more (another "
                        "process stored one at the same moment); looking again", ref,
                        self.token_label)
        raise KeyManagementError(f"PKCS#11 start failed on token {self.token_label!r}: the "
                                 f"KEK it generated did not stay on the token")

    def wrap(self, plaintext: bytes, context: bytes) -> WrappedKey:
        """Encrypt a data key under the newest KEK version, inside the token."""
        def run(session: Any) -> WrappedKey:
            versions = self._versions(session)
            if not versions and self.key_label in self._shared.seen:
                raise _Vanished()  # it was there: another process is writing the token
            if not versions:
                raise KeyManagementError(f"token {self.token_label!r} holds no key labelled "
                                         f"{self.key_label}-v<N>; start the gateway once")
            ref = key_ref(self.key_label, max(versions))
            nonce = os.urandom(12)
            sealed = versions[max(versions)][0].encrypt(
                plaintext, mechanism=Mechanism.AES_GCM,
                mechanism_param=GCMParams(nonce, wrap_aad(KMS_NAME, ref, context), 128))
            return WrappedKey(kms=KMS_NAME, key_ref=ref, blob=nonce + bytes(sealed))
        return self._call("wrap", run)

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        """Decrypt a blob made by :meth:`wrap`, inside the token."""
        version = ref_version(wrapped.key_ref, self.key_label)
        if version is None or len(wrapped.blob) < 12 + 16:
            raise DecryptionError("wrapped data key is not from this PKCS#11 keyring")

        def run(session: Any) -> bytes:
            params = GCMParams(wrapped.blob[:12], wrap_aad(KMS_NAME, wrapped.key_ref, context),
                               128)
            tried: set[int] = set()

            def attempt(candidates: list[Any]) -> bytes | None:
                for key in candidates:
                    if int(key.handle) in tried:
                        continue
                    tried.add(int(key.handle))
                    with contextlib.suppress(*_AUTHENTICATION_FAILURES):
                        return bytes(key.decrypt(wrapped.blob[12:],
                                                 mechanism=Mechanism.AES_GCM,
                                                 mechanism_param=params))
                return None
            # the cached objects first, then the token's: another process may have made
            # a twin of this version since they were listed
            plain = attempt(self._shared.keys.get(wrapped.key_ref, []))
            if plain is None:
                plain = attempt(self._versions(session).get(version, []))
            if plain is not None:
                return plain
            if not tried:
                raise KeyManagementError(f"KEK {wrapped.key_ref} is not in token "
                                         f"{self.token_label!r} (destroyed?)")
            raise DecryptionError(f"wrapped data key does not authenticate under "
                                  f"{wrapped.key_ref} (wrong owner or tampered)")
        return self._call("unwrap", run)

    def rotate(self) -> str:
        """Generate the next KEK version in the token; it becomes current at once."""
        return self._call("rotate", lambda s: self._generate(
            s, max(self._versions(s), default=0) + 1))[0]

    def check(self) -> None:
        """Open the token and list its KEKs (a token with none yet is fine).

        :raises KeyManagementError: module missing, token absent, PIN wrong, no AES-GCM.
        """
        self._call("check", self._versions)

    def status(self) -> KmsStatus:
        """Healthy when the token answers and holds a KEK."""
        try:
            versions = self._call("status", self._versions)
        except KeyManagementError as err:
            return KmsStatus(kms=KMS_NAME, healthy=False, reason=str(err))
        if not versions:
            return KmsStatus(kms=KMS_NAME, healthy=False,
                             reason=f"token {self.token_label!r} holds no KEK yet")
        return KmsStatus(kms=KMS_NAME, healthy=True,
                         current_key_ref=key_ref(self.key_label, max(versions)))

    def close(self) -> None:
        """Close the shared session (it reopens on next use)."""
        with self._shared.lock:
            self._reset()

    # ------------------------------------------------------------------ internals
    def _call(self, operation: str, fn: Callable[[Any], T]) -> T:
        """Run ``fn`` on the shared session; a handle that another process's change to the
        token's objects made invalid (:data:`_CHANGED_MEANWHILE`) is read again on a fresh
        session, up to :data:`ATTEMPTS` times."""
        with self._shared.lock:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return fn(self._session())
                except KeyManagementError:
                    raise
                except _CHANGED_MEANWHILE as err:
                    self._reset()
                    if attempt == ATTEMPTS:
                        raise self._failed(operation, err) from err
                    time.sleep(0.02 * attempt)
                except p11.PKCS11Error as err:
                    self._reset()
                    raise self._failed(operation, err) from err
            raise AssertionError("unreachable")

    def _failed(self, operation: str, err: Exception) -> KeyManagementError:
        return KeyManagementError(f"PKCS#11 {operation} failed on token "
                                  f"{self.token_label!r}: {type(err).__name__}")

    def _session(self) -> Any:
        if self._shared.session is not None:
            return self._shared.session
        if not os.path.exists(self.module):
            raise KeyManagementError(f"PKCS#11 module {self.module} not found; install the "
                                     "HSM's library or set kms_pkcs11.module")
        try:
            lib = pkcs11.lib(self.module)
            token = lib.get_token(token_label=self.token_label)
        except p11.NoSuchToken:
            raise KeyManagementError(f"no PKCS#11 token labelled {self.token_label!r} in "
                                     f"{self.module}; set kms_pkcs11.token_label") from None
        except p11.PKCS11Error as err:
            raise KeyManagementError(f"cannot load PKCS#11 module {self.module}: "
                                     f"{type(err).__name__}") from err
        if Mechanism.AES_GCM not in token.slot.get_mechanisms():
            raise KeyManagementError(f"token {self.token_label!r} does not offer CKM_AES_GCM, "
                                     "which the pkcs11 KMS needs")
        if self._shared.pin_refused is not None:
            raise KeyManagementError(self._shared.pin_refused)
        try:
            self._shared.session = token.open(user_pin=self._pin, rw=True)
        except _PIN_REFUSALS as err:
            # not offered again: the same PIN would fail again, and each try counts
            # towards the token's lockout (a failed login also leaves its session open)
            self._shared.pin_refused = (
                f"PIN for token {self.token_label!r} is incorrect (kms_pkcs11.pin; "
                f"{type(err).__name__}); not tried again: fix it and restart")
            raise KeyManagementError(self._shared.pin_refused) from None
        return self._shared.session

    def _reset(self) -> None:
        session, self._shared.session = self._shared.session, None
        self._shared.keys.clear()
        if session is not None:
            with contextlib.suppress(p11.PKCS11Error):
                session.close()

    def _versions(self, session: Any) -> dict[int, list[Any]]:
        """Every KEK version in the token, each with all objects carrying its label."""
        found: dict[int, list[Any]] = {}
        for obj in list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                             Attribute.KEY_TYPE: KeyType.AES})):
            version = ref_version(obj.label or "", self.key_label)
            if version is not None:
                found.setdefault(version, []).append(obj)
        for version, objects in found.items():
            objects.sort(key=lambda obj: int(obj.handle))
            self._shared.keys[key_ref(self.key_label, version)] = objects
        if found:
            self._shared.seen.add(self.key_label)
        return found

    def _holds(self, session: Any, object_id: bytes) -> bool:
        """Whether the token holds the secret key object with ``CKA_ID`` ``object_id``."""
        return bool(list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                              Attribute.ID: object_id})))

    def _generate(self, session: Any, version: int) -> tuple[str, bytes]:
        """Generate KEK ``version``: its reference, and its ``CKA_ID`` (the reference and
        a random suffix, so this process can tell its object from a twin's)."""
        ref = key_ref(self.key_label, version)
        object_id = f"{ref}|{os.urandom(8).hex()}".encode()
        key = session.generate_key(
            KeyType.AES, 256, label=ref, id=object_id, store=True,
            template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                      Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
                      Attribute.WRAP: False, Attribute.UNWRAP: False})
        self._shared.keys.setdefault(ref, []).append(key)
        self._shared.seen.add(self.key_label)
        return ref, object_id
