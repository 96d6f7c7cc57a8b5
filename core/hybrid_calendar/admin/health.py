"""Per-user sync health an administrator can act on (table ``user_health``).

The engine records here: each successful sync (when, how long), each failed one (when,
reason code, plain words, the back-off until the retry), and each sync-token reset (the
provider said the cursor expired and a full sync replaced it). :func:`user_health` reads
it back for the admin API, the admin page and ``users list``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.admin.metrics import metrics
from hybrid_calendar.admin.reasons import ReasonCode, classify
from hybrid_calendar.admin.sql import execute, transaction
from hybrid_calendar.errors import GatewayError, RateLimitError, TransientError
from hybrid_calendar.store.base import SyncSuccess
from hybrid_calendar.store.health_rows import SYNC_SUCCESS, sync_success_params

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

_EMPTY: dict[str, Any] = {"last_success_at": None, "last_sync_seconds": None,
                          "last_error_at": None, "last_error_code": None, "last_error": None,
                          "consecutive_failures": 0, "backoff_until": None,
                          "sync_token_resets": 0}


def error_code(err: BaseException) -> str:
    """A stable code for a sync failure (``rate_limited``, ``provider_unavailable``, or a
    :class:`ReasonCode`)."""
    if isinstance(err, RateLimitError):
        return "rate_limited"
    if isinstance(err, TransientError):
        return "provider_unavailable"
    if isinstance(err, GatewayError):
        return str(classify(err, ReasonCode.PROVIDER_ERROR))
    return "internal_error"


def sync_success(gateway: Gateway, seconds: float, *, token_reset: bool) -> SyncSuccess:
    """The health record of a sync that succeeded after ``seconds`` (``token_reset``
    when the provider replaced an expired cursor with a full sync), for the sync's write
    (``SyncWrite.health``) or :func:`record_sync_success`."""
    return SyncSuccess(gateway.clock.now().timestamp(), seconds, token_reset)


async def record_sync_success(gateway: Gateway, user_id: str, success: SyncSuccess, *,
                              stored: bool, seconds: float | None = None) -> None:
    """A sync of ``user_id`` succeeded: observe its duration (``seconds``, default the
    record's) and store the record unless the sync's write ``stored`` it already."""
    metrics(gateway).sync_seconds.observe(success.seconds if seconds is None else seconds)
    if stored:
        return

    def write(db: Database) -> None:  # one statement: it may share another's commit
        execute(db, SYNC_SUCCESS, sync_success_params(user_id, success))

    await gateway.store.call_grouped(write)


async def record_sync_failure(gateway: Gateway, user_id: str, err: BaseException,
                              retry_at: datetime | None) -> None:
    """A sync of ``user_id`` failed with ``err``; retried at ``retry_at`` (``None``:
    parked, no retry)."""
    metrics(gateway).sync_failures.labels(error_code(err)).inc()
    now = gateway.clock.now().timestamp()
    words = (str(err) or type(err).__name__)[:500]
    until = retry_at.timestamp() if retry_at else None

    def write(db: Database) -> None:
        with transaction(db):
            execute(db,
                "INSERT INTO user_health (user_id, last_error_at, last_error_code, "
                "last_error, consecutive_failures, backoff_until, sync_token_resets) "
                "VALUES (?, ?, ?, ?, 1, ?, 0) ON CONFLICT(user_id) DO UPDATE SET "
                "last_error_at = excluded.last_error_at, "
                "last_error_code = excluded.last_error_code, "
                "last_error = excluded.last_error, backoff_until = excluded.backoff_until, "
                "consecutive_failures = coalesce(user_health.consecutive_failures, 0) + 1",
                [user_id, now, error_code(err), words, until])

    await gateway.store.call(write)


async def user_health(gateway: Gateway, user_id: str) -> dict[str, Any]:
    """The user's health as JSON (times in ISO 8601, UTC)."""

    def read(db: Database) -> dict[str, Any] | None:
        cursor = execute(db, "SELECT * FROM user_health WHERE user_id = ?", [user_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))

    row = await gateway.store.call(read)
    if row is None:
        return dict(_EMPTY)
    result = {key: row.get(key, default) for key, default in _EMPTY.items()}
    for key in ("last_success_at", "last_error_at", "backoff_until"):
        if result[key] is not None:
            result[key] = datetime.fromtimestamp(float(result[key]), UTC).isoformat()
    result["consecutive_failures"] = int(result["consecutive_failures"] or 0)
    result["sync_token_resets"] = int(result["sync_token_resets"] or 0)
    return result
