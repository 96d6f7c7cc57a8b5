"""Built-in ``kms_local`` plugin: key-encryption keys in a local key file (the default).

Suits development, the demo and small single-host deployments. The key file
(``kms_local.key_file``, default ``<gateway.data_dir>/kms-local.json``) is created on first
start with mode 0600; the gateway refuses to start if group or others may read it. Back
it up separately from the database: the database alone cannot be decrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_calendar import hookimpl
from hybrid_calendar.config import Config, SettingSpec
from hybrid_calendar.demo_setup import DemoPart, DemoSetup
from hybrid_calendar.errors import KeyManagementError, StoreError
from hybrid_calendar.models import KmsStatus, WrappedKey
from hybrid_calendar_kms.keyfile import KMS_NAME, LocalKeyring, check_permissions

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

SECTION = "kms_local"
STATE_KEY = "kms_local"


def key_file(config: Config) -> Path:
    """The configured key file, or ``<gateway.data_dir>/kms-local.json``."""
    configured = config.get(SECTION, "key_file")
    if configured:
        return Path(configured)
    return Path(config.get("gateway", "data_dir")) / "kms-local.json"


REFUSED_KEY = "kms_local.refused"
"""Set when start-up found the key file missing while the database holds wrapped keys:
from then on no use of the keyring may create a new key file."""


class _Refused:
    """Marker of a refused start-up (see :data:`REFUSED_KEY`)."""


def keyring(gateway: Gateway) -> LocalKeyring:
    """This gateway's keyring, opened (and on the very first start created) on first use."""
    create = REFUSED_KEY not in gateway.state
    return gateway.state.get_or_create(
        STATE_KEY, LocalKeyring,
        lambda: LocalKeyring.open(key_file(gateway.config), create=create))


def viable(config: Config) -> None:
    """Check that the key file exists, is private and parses.

    :raises KeyManagementError: with the reason and the fix.
    """
    path = key_file(config)
    check_permissions(path)
    LocalKeyring.open(path, create=False)


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare ``kms_local.key_file``."""
    register(SettingSpec(SECTION, "key_file", str, "",
                         help="Key file of the local KMS (created 0600 on first start); "
                              "empty means <gateway.data_dir>/kms-local.json."))


@hookimpl
def check_config(config: Config, problem: Callable[[str, str], None]) -> None:
    """An existing key file must be private and parse; a missing one must be creatable."""
    from hybrid_calendar.admin.preflight import writable_directory_problem

    path = key_file(config)
    if path.exists():
        try:
            viable(config)
        except KeyManagementError as err:
            problem(f"{SECTION}.key_file", str(err))
        return
    if path.parent == Path(config.get("gateway", "data_dir")):
        return  # the core reports a data directory it cannot write
    reason = writable_directory_problem(path.parent)
    if reason:
        problem(f"{SECTION}.key_file", f"{path} cannot be created: {path.parent} {reason}")


@hookimpl
def prepare_demo(demo: DemoSetup) -> DemoPart:
    """Keep the demo's key-encryption keys in ``<demo data dir>/kms-keys.json``."""
    return DemoPart(settings={SECTION: {"key_file": str(demo.data_dir / "kms-keys.json")}})


@hookimpl
async def startup(gateway: Gateway) -> None:
    """Create the key file on first start; refuse to start on loose permissions, and
    refuse to create a key file while the database holds keys wrapped by another one."""
    path = key_file(gateway.config)
    if not path.exists() and STATE_KEY not in gateway.state:
        try:
            stored = await gateway.cipher.stored_key_count()
        except StoreError:  # no database open (a KMS used on its own, in tests)
            stored = 0
        if stored:
            gateway.state.get_or_create(REFUSED_KEY, _Refused, _Refused)
            raise KeyManagementError(
                f"key file {path} is missing but the database holds {stored} wrapped data "
                "keys: restore the key file from its backup (a new key could not read them)")
    keyring(gateway).refresh()


@hookimpl
def wrap_key(gateway: Gateway, plaintext: bytes, context: bytes) -> WrappedKey:
    """Wrap a data key with AES-256-GCM under the current KEK version (``kek-vN``)."""
    return keyring(gateway).wrap(plaintext, context)


@hookimpl
def unwrap_key(gateway: Gateway, wrapped: WrappedKey, context: bytes) -> bytes | None:
    """Unwrap a data key this plugin wrapped; pass (``None``) on other KMSs' keys."""
    if wrapped.kms != KMS_NAME:
        return None
    return keyring(gateway).unwrap(wrapped, context)


@hookimpl
def rotate_master_key(gateway: Gateway) -> str:
    """Add a KEK version to the key file and make it current; old versions stay."""
    return keyring(gateway).rotate()


@hookimpl
def kms_status(gateway: Gateway) -> KmsStatus:
    """Healthy while the key file is present, private (0600) and intact."""
    try:
        ring = keyring(gateway)
    except Exception as err:
        return KmsStatus(kms=KMS_NAME, healthy=False, reason=str(err))
    return ring.status()
