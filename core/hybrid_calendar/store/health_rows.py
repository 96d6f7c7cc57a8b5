"""A successful sync's row in ``user_health``: one statement both stores run, with the
sync's own write (``SyncWrite.health``) or on its own (:mod:`hybrid_calendar.admin.health`).
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar.store.base import SyncSuccess

SYNC_SUCCESS = (
    "INSERT INTO user_health (user_id, last_success_at, last_sync_seconds, "
    "consecutive_failures, backoff_until, sync_token_resets) "
    "VALUES (?, ?, ?, 0, NULL, ?) ON CONFLICT(user_id) DO UPDATE SET "
    "last_success_at = excluded.last_success_at, "
    "last_sync_seconds = excluded.last_sync_seconds, consecutive_failures = 0, "
    "backoff_until = NULL, sync_token_resets = "
    "coalesce(user_health.sync_token_resets, 0) + excluded.sync_token_resets")
"""The success's upsert with ``?`` placeholders (:func:`sync_success_params`): failures
counted so far and the back-off are cleared, a cursor reset is added to the count."""

SYNC_SUCCESS_PG = SYNC_SUCCESS.replace("?", "%s")
""":data:`SYNC_SUCCESS` with PostgreSQL's placeholders (no ``?`` occurs in it otherwise)."""


def sync_success_params(user_id: str, success: SyncSuccess) -> list[Any]:
    """The parameters of :data:`SYNC_SUCCESS` for one user's success."""
    return [user_id, success.at, success.seconds, int(success.token_reset)]
