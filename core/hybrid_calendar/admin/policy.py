"""Who may be activated, and the validation a user passes before becoming active.

A user is accepted only when the address is in one of the organisation's verified
domains (``Organisation.domain`` plus ``settings["domains"]``), or an administrator marked
that very address verified (kept as a keyed blind index, never the address).

Validation, in order, each through the user's provider plugin: a token for the user and
the calendar settings (``check_access``), a calendar read (``get_event`` of an id that
does not exist: a 404 proves the calendar is readable), the vacation responder
(``read_out_of_office``); the push channel is opened last by the activation job. Rate
limits and server failures are not the user's fault: they raise, and the job retries with
backoff while the user stays ``validating``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybrid_calendar.admin.reasons import ReasonCode, classify, format_reason
from hybrid_calendar.admin.sql import execute, transaction
from hybrid_calendar.errors import GatewayError, RateLimitError, TransientError
from hybrid_calendar.models import Organisation, OutOfOffice, User

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

PROBE_EVENT_ID = "hybridcalendarvalidationprobe"
"""An event id that never exists: reading it proves calendar access without reading data."""


@dataclass(frozen=True, slots=True)
class Validation:
    """Outcome of :func:`validate_user`: ``reason`` is ``"<code>: <words>"`` on failure."""

    ok: bool
    reason: str | None = None
    locale: str | None = None
    timezone: str | None = None
    out_of_office: OutOfOffice | None = None
    """The vacation responder as read by the check (activation reuses it)."""


def verified_domains(org: Organisation) -> list[str]:
    """The organisation's verified domains, lower-case, primary first."""
    extra = org.settings.get("domains") or []
    domains = [org.domain, *(str(d) for d in extra)]
    return list(dict.fromkeys(d.strip().lower() for d in domains if d and d.strip()))


async def address_accepted(gateway: Gateway, org: Organisation, email: str) -> bool:
    """True when ``email`` is in a verified domain or was marked verified."""
    domain = email.rpartition("@")[2].lower()
    if domain in verified_domains(org):
        return True
    index = await gateway.cipher.blind_index(org.id, email.strip().lower())

    def marked(db: Database) -> bool:
        return bool(execute(db, "SELECT 1 FROM admin_verified_addresses WHERE org_id = ? "
                               "AND email_index = ?", [org.id, index]).fetchone())

    return bool(await gateway.store.call(marked))


async def mark_address_verified(gateway: Gateway, org: Organisation, email: str) -> None:
    """Record that an administrator verified this address for the organisation."""
    index = await gateway.cipher.blind_index(org.id, email.strip().lower())

    def insert(db: Database) -> None:
        with transaction(db):
            execute(db, "INSERT INTO admin_verified_addresses (org_id, email_index, "
                       "verified_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       [org.id, index, gateway.clock.now().timestamp()])

    await gateway.store.call(insert)


async def validate_user(gateway: Gateway, user: User, org: Organisation | None
                        ) -> Validation:
    """Run every validation step; the first failure gives the reason.

    :param org: the user's organisation as the activation job read it with the user
        (:meth:`Store.get_user_context`); ``None`` when it is gone.
    :raises RateLimitError: the provider kept rate-limiting (retry later).
    :raises TransientError: the provider or network kept failing (retry later).
    """
    if org is None or not await address_accepted(gateway, org, user.email):
        return Validation(False, format_reason(ReasonCode.DOMAIN_NOT_VERIFIED))
    try:
        check = await gateway.hooks.check_access(gateway, user)
    except (RateLimitError, TransientError):
        raise
    except GatewayError as err:
        return Validation(False, format_reason(classify(err, ReasonCode.SETTINGS_UNREADABLE),
                                               str(err)))
    if not check.ok:
        known = {c.value for c in ReasonCode}
        code = ReasonCode(check.code) if check.code in known else ReasonCode.PROVIDER_ERROR
        return Validation(False, format_reason(code, check.reason))
    results: list[object] = []
    for step, call in ((ReasonCode.CALENDAR_UNREADABLE,
                        lambda: gateway.hooks.get_event(gateway, user, PROBE_EVENT_ID)),
                       (ReasonCode.VACATION_UNREADABLE,
                        lambda: gateway.hooks.read_out_of_office(gateway, user))):
        try:
            results.append(await call())
        except (RateLimitError, TransientError):
            raise
        except GatewayError as err:
            return Validation(False, format_reason(classify(err, step), str(err)))
    ooo = results[-1]
    return Validation(True, locale=check.locale, timezone=check.timezone,
                      out_of_office=ooo if isinstance(ooo, OutOfOffice) else None)
