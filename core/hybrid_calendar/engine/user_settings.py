"""A user's calendar language and time zone, read again once a period.

Activation stores what the user's calendar says (``check_access``: Google's ``locale``
and ``timezone`` settings); people change both (a new language, a move, a long trip).
The join details written into an invite use the organiser's language, and the personal
pages show times in the user's zone, so the sweep reads them again every
``sync.settings_refresh_hours`` and stores what changed (:meth:`Store.set_user_settings`,
which leaves the user's state alone).

Each user has a fixed time within the period (from a hash of the id), so the reads of a
large organisation spread over the day instead of coming all at once, and a restart
(which forgets what was read) neither reads everyone again at once nor delays anyone by
more than one period: the first sweep that sees a user counts it as read at its last
turn. A read that fails is logged and tried at the next turn; it never changes the
user's state (the sync notices lost access).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hybrid_calendar.errors import GatewayError
from hybrid_calendar.models import User, UserState

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


def last_turn(user_id: str, now: float, period: float) -> float:
    """The latest time not after ``now`` at which the user's settings are due: the
    user's own offset within the period (from the id), plus whole periods."""
    offset = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:8], "big") % max(
        int(period), 1)
    return now - (now - offset) % period


async def refresh_user_settings(gateway: Gateway, users: Sequence[User] | None = None
                                ) -> int:
    """Read again the language and time zone of each active user whose turn came;
    returns how many users' stored settings changed.

    :param users: the active users, when the caller listed them already (the sweep
        lists them once for all its per-user reads)."""
    hours = float(gateway.config.get("sync", "settings_refresh_hours"))
    if hours <= 0:
        return 0
    period, now = hours * 3600.0, gateway.clock.now().timestamp()
    read = gateway.memory.settings_read
    changed = 0
    if users is None:
        users = await gateway.store.list_users(state=UserState.ACTIVE)
    for user in users:
        turn = last_turn(user.id, now, period)
        if read.setdefault(user.id, turn) >= turn:
            continue  # read at this turn already (or first seen: counted as read)
        read[user.id] = turn
        changed += await _refresh(gateway, user)
    return changed


async def _refresh(gateway: Gateway, user: User) -> int:
    try:
        check = await gateway.hooks.check_access(gateway, user)
    except GatewayError as err:
        log.info("calendar settings of user %s not read again: %s", user.id, err)
        return 0
    if not check.ok:
        log.info("calendar settings of user %s not read again: %s", user.id, check.reason)
        return 0
    locale, timezone = check.locale or user.locale, check.timezone or user.timezone
    if (locale, timezone) == (user.locale, user.timezone):
        return 0
    if not await gateway.store.set_user_settings(user.id, locale, timezone):
        return 0
    log.info("calendar settings of user %s changed: language %s, time zone %s", user.id,
             locale, timezone)
    return 1
