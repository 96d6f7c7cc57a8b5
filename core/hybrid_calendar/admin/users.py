"""User administration shared by the admin API, the admin page and the ``users`` commands.

* :func:`activate_addresses` accepts addresses of verified domains (or marks them verified
  first when asked), creates or resets the users to ``pending`` and starts validation:
  queued for the engine when the gateway runs, run at once by a one-off command.
* :func:`deactivate_user` stops the channel and purges the user's data and keys.
* :func:`validate_user_again` retries a user (in ``error``, or stuck ``pending``).
* :func:`user_rows` lists users with state, reason code, reason and health.
* :func:`read_addresses_csv` reads a CSV of addresses (an ``email`` column, or the first).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from hybrid_calendar.admin.health import user_health
from hybrid_calendar.admin.policy import address_accepted, mark_address_verified
from hybrid_calendar.admin.reasons import ReasonCode, format_reason, split_reason
from hybrid_calendar.admin.sql import execute
from hybrid_calendar.engine.activation import (
    NEW_USER,
    new_user_id,
    run_activate_job,
    run_deactivate_job,
)
from hybrid_calendar.models import Job, Organisation, User, UserState

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one address: ``accepted`` with the user, or refused and why."""

    email: str
    accepted: bool
    user: User | None = None
    code: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as the API shows it."""
        return {"email": self.email, "accepted": self.accepted,
                "user_id": self.user.id if self.user else None,
                "state": str(self.user.state) if self.user else None,
                "code": self.code, "reason": self.reason}


async def activate_addresses(gateway: Gateway, org: Organisation, emails: list[str], *,
                             mark_verified: bool = False) -> list[Outcome]:
    """Accept and start activating each address; refuse invalid and unverified ones.

    The accepted addresses are added in one store call (``Store.add_users``: new users,
    or existing ones back to ``pending``) and their activations queued in one
    (``Engine.enqueue_many``), whatever their number.
    """
    outcomes: list[Outcome | None] = []
    accepted: list[tuple[int, str]] = []  # (place in outcomes, address)
    for raw in emails:
        email = raw.strip()
        if not EMAIL.match(email):
            outcomes.append(Outcome(email, False, code="invalid_address",
                                    reason="not an email address"))
            continue
        if mark_verified:
            await mark_address_verified(gateway, org, email)
        if not await address_accepted(gateway, org, email):
            code, words = split_reason(format_reason(ReasonCode.DOMAIN_NOT_VERIFIED))
            outcomes.append(Outcome(email, False, code=code, reason=words))
            continue
        accepted.append((len(outcomes), email))
        outcomes.append(None)
    if accepted:
        fresh = [User(id=new_user_id(), org_id=org.id, email=email) for _, email in accepted]
        users = await gateway.store.add_users(fresh)
        inserted = {new.id for new, user in zip(fresh, users, strict=True)
                    if new.id == user.id}
        gateway.cipher.note_new_users(org.id, inserted)  # inserted: they own no key
        started = await _start_many(gateway, "activate", users, inserted)
        for (place, email), user in zip(accepted, started, strict=True):
            outcomes[place] = Outcome(email, True, user=user)
    return [outcome for outcome in outcomes if outcome is not None]


async def validate_user_again(gateway: Gateway, user: User) -> User:
    """Validate a user again (``pending`` first); returns the user as it now stands."""
    user = await gateway.store.set_user_state(user.id, UserState.PENDING, None)
    return await _start(gateway, "activate", user)


async def deactivate_user(gateway: Gateway, user: User) -> User:
    """Stop the channel, purge the user's data and keys, mark ``inactive``."""
    return await _start(gateway, "deactivate", user)


async def _start_many(gateway: Gateway, kind: str, users: list[User],
                      inserted: Collection[str] = ()) -> list[User]:
    """:func:`_start` for each user; with an engine, the jobs are queued in one call.

    :param inserted: the users just created (fresh ids): their jobs say so
        (:data:`~hybrid_calendar.engine.activation.NEW_USER`), so the first activation
        knows no channel of theirs can exist.
    """
    if gateway.engine is None:
        return [await _start(gateway, kind, user) for user in users]
    await gateway.engine.enqueue_many(kind, [
        (user.id, {"user_id": user.id, NEW_USER: True, "org_id": user.org_id}
         if user.id in inserted else {"user_id": user.id}) for user in users])
    return users


async def _start(gateway: Gateway, kind: str, user: User) -> User:
    if gateway.engine is not None:
        await gateway.engine.enqueue(kind, user.id, {"user_id": user.id})
        return user
    job = Job(id=0, kind=kind, key=f"{kind}:{user.id}", payload={"user_id": user.id},
              attempts=0, run_at=gateway.clock.now())
    await (run_activate_job if kind == "activate" else run_deactivate_job)(gateway, job)
    return await gateway.store.get_user(user.id) or user


async def user_rows(gateway: Gateway, org_id: str) -> list[dict[str, Any]]:
    """Every user of an organisation with state, reason and health, for lists."""
    rows = []
    for user in await gateway.store.list_users(org_id=org_id):
        code, words = split_reason(user.reason)
        counts: tuple[int, int] = await gateway.store.call(partial(_counts, user_id=user.id))
        channels = await gateway.store.list_channels(user_id=user.id)
        sync = await gateway.store.get_sync_state(user.id)
        expiry = max((c.expires_at for c in channels), default=None)
        rows.append({
            "id": user.id, "org_id": user.org_id, "email": user.email,
            "state": str(user.state), "reason_code": code, "reason": words,
            "locale": user.locale,
            "last_sync_at": sync.last_sync_at.isoformat() if sync.last_sync_at else None,
            "channel_expires_at": expiry.isoformat() if expiry else None,
            "meetings": counts[0], "undelivered_notifications": counts[1],
            "health": await user_health(gateway, user.id),
        })
    return rows


def _counts(db: Database, user_id: str) -> tuple[int, int]:
    meetings = execute(db, "SELECT count(*) FROM meetings WHERE user_id = ?",
                          [user_id]).fetchone()[0]
    undelivered = execute(db, "SELECT count(*) FROM scheduled_notifications WHERE user_id = ? "
                             "AND state IN ('pending', 'dead')", [user_id]).fetchone()[0]
    return int(meetings), int(undelivered)


def read_addresses_csv(text: str) -> list[str]:
    """Addresses from CSV text: the ``email`` column if there is a header, else the first
    column; blank lines and ``#`` comments are skipped."""
    lines = [line for line in text.splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = header.index("email") if "email" in header else 0
    body = rows[1:] if "email" in header else rows
    return [row[column].strip() for row in body if len(row) > column and row[column].strip()]


def user_json(user: User) -> dict[str, Any]:
    """A user as the admin API shows it after a change."""
    code, words = split_reason(user.reason)
    return {"id": user.id, "org_id": user.org_id, "email": user.email,
            "state": str(user.state), "reason_code": code, "reason": words,
            "locale": user.locale}
