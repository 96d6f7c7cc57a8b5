"""The `kms_pkcs11` plugin on a real SoftHSM2 token: twin KEK objects of one label (processes
starting together on a fresh token) and a refused PIN not offered again."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from typing import Any

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType

from hybrid_calendar.crypto import GatewayKms
from hybrid_calendar.crypto.testing import build_gateway
from hybrid_calendar.errors import KeyManagementError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import WrappedKey
from hybrid_calendar_kms import pkcs11 as plugin
from hybrid_calendar_kms.hsm import HsmKeyring

from .conftest import SoftHsm

pytestmark = pytest.mark.softhsm


def hsm_gateway(softhsm: SoftHsm, **overrides: str) -> Gateway:
    settings = {"module": softhsm.module, "token_label": softhsm.token_label,
                "pin": softhsm.pin, "key_label": f"kek-{uuid.uuid4().hex[:8]}"} | overrides
    return build_gateway(["kms_pkcs11"], {"kms_pkcs11": settings})


def next_session_handle(softhsm: SoftHsm) -> int:
    """The handle SoftHSM gives the next session: it counts every C_OpenSession of the
    process (handles are never reused), so two readings tell how many sessions, hence
    how many C_Login attempts, came in between."""
    token = pkcs11.lib(softhsm.module).get_token(token_label=softhsm.token_label)
    session: Any = token.open(rw=False)
    try:
        return int(session.handle)
    finally:
        session.close()


@pytest.mark.anyio
async def test_a_rejected_pin_is_not_tried_again(softhsm: SoftHsm) -> None:
    """A PIN the token rejected is never right later in this process (the PIN is read
    from configuration once): trying it at every call while unhealthy counts towards a
    real HSM's PIN lockout, and python-pkcs11's ``Token.open`` leaves the session of a
    failed C_Login open."""
    plugin.keyring(hsm_gateway(softhsm)).close()  # no logged-in session of the test PIN
    before = next_session_handle(softhsm)
    gateway = hsm_gateway(softhsm, pin="4321")
    kms = GatewayKms(gateway)
    for _ in range(20):  # the cipher asks at every call while the KMS is unhealthy
        status = await kms.status()
        assert not status.healthy and "incorrect" in (status.reason or "")
        assert "4321" not in (status.reason or "")
    logins = next_session_handle(softhsm) - before - 1
    assert logins == 1, f"{logins} logins with the refused PIN in 20 status calls"


@pytest.mark.anyio
async def test_two_kek_objects_with_one_label_still_unwrap(softhsm: SoftHsm) -> None:
    """Two processes starting on a fresh token (or two ``kms rotate`` at once) each find
    no ``<label>-v1`` and each generate one: the token then holds two KEK objects with
    one label. A data key wrapped under either must still unwrap (else it is lost)."""
    label = f"kek-{uuid.uuid4().hex[:8]}"
    first = HsmKeyring(softhsm.module, softhsm.token_label, softhsm.pin, label)
    ref = first.ensure()
    keys = [os.urandom(32) for _ in range(4)]
    wrapped = [first.wrap(k, b"ctx") for k in keys[:2]]

    # the other process's ensure(): it listed no KEK, then generated its own v1
    token = pkcs11.lib(softhsm.module).get_token(token_label=softhsm.token_label)

    def generate_twin(session: object) -> None:
        session.generate_key(  # type: ignore[attr-defined]
            KeyType.AES, 256, label=ref, id=ref.encode(), store=True,
            template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                      Attribute.ENCRYPT: True, Attribute.DECRYPT: True})
    first._call("twin", generate_twin)
    del token

    wrapped += [first.wrap(k, b"ctx") for k in keys[2:]]
    first.close()  # a restart: no cached object handles
    second = HsmKeyring(softhsm.module, softhsm.token_label, softhsm.pin, label)
    assert [second.unwrap(w, b"ctx") for w in wrapped] == keys


def _start_and_wrap(softhsm: SoftHsm, label: str, barrier: Any, out: Any) -> None:
    """One gateway process's first start on the token, then one data key wrapped."""
    try:
        ring = HsmKeyring(softhsm.module, softhsm.token_label, softhsm.pin, label)
        ring.check()  # the token is open, as after check_config
        barrier.wait()
        ring.ensure()  # start-up: generates <label>-v1 when the token has none
        key = os.urandom(32)
        for attempt in range(3):  # the other process's object may be half written yet
            try:               # (a failed wrap is a failed job: retried)
                wrapped = ring.wrap(key, b"ctx")
                break
            except KeyManagementError:
                if attempt == 2:
                    raise
        out.put((key, wrapped.kms, wrapped.key_ref, wrapped.blob))
    except Exception as err:
        out.put(repr(err))


def test_processes_starting_together_on_a_fresh_token_lose_no_key(softhsm: SoftHsm
                                                                   ) -> None:
    """docs/scaling.md: every process uses the same HSM. Two processes starting at once
    on a fresh token each generate a ``-v1``; what each wrapped stays readable."""
    context = multiprocessing.get_context("spawn")
    label = f"kek-{uuid.uuid4().hex[:8]}"
    barrier, out = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_start_and_wrap, args=(softhsm, label, barrier, out))
                 for _ in range(2)]
    for process in processes:
        process.start()
    results = [out.get(timeout=60) for _ in processes]
    assert not [r for r in results if isinstance(r, str)], results
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    ring = HsmKeyring(softhsm.module, softhsm.token_label, softhsm.pin, label)
    for key, kms, ref, blob in results:
        assert ring.unwrap(WrappedKey(kms, ref, blob), b"ctx") == key
