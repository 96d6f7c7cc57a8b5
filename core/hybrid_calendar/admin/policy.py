"""Who may be activated, and the validation a user passes before becoming active.

A user is accepted only when the address is in one of the organisation's verified
domains (``Organisation.domain`` plus ``settings["domains"]``), or an administrator marked
that very address verified (kept as a keyed blind index, never the address).

Validation, in order, each through the user's provider plugin: a token for the user and
the calendar settings (``check_access``), then the vacation responder
(``read_out_of_office``). The activation job then opens the push channel on the user's
calendar (``watch_calendar``): the provider grants it only to a reader of the calendar's
events, so that call is the proof that the calendar is readable, and its refusal is
given a reason code of its own (:func:`channel_refusal`). No separate calendar read is
made: the full sync reads the calendar moments later anyway. Rate limits and server
failures are not the user's fault: they raise, and the job retries with backoff while the
user stays ``validating``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybrid_calendar.admin.reasons import ReasonCode, classify, format_reason
from hybrid_calendar.admin.sql import execute, transaction
from hybrid_calendar.errors import GatewayError, ProviderError, RateLimitError, TransientError
from hybrid_calendar.models import Organisation, OutOfOffice, User

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

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
        return _failed(err, ReasonCode.SETTINGS_UNREADABLE)
    if not check.ok:
        known = {c.value for c in ReasonCode}
        code = ReasonCode(check.code) if check.code in known else ReasonCode.PROVIDER_ERROR
        return Validation(False, format_reason(code, check.reason))
    try:
        ooo = await gateway.hooks.read_out_of_office(gateway, user)
    except (RateLimitError, TransientError):
        raise
    except GatewayError as err:
        return _failed(err, ReasonCode.VACATION_UNREADABLE)
    return Validation(True, locale=check.locale, timezone=check.timezone,
                      out_of_office=ooo if isinstance(ooo, OutOfOffice) else None)


def _failed(err: GatewayError, step: ReasonCode) -> Validation:
    """A failed validation step: the error's own code (``classify``) or the step's."""
    return Validation(False, format_reason(classify(err, step), str(err)))


def channel_refusal(err: GatewayError) -> str:
    """The stored reason when the provider refused the activation's push channel.

    The channel is opened on the user's calendar, which only a reader of its events may
    watch: a calendar the provider does not find for the user (404, 410) is
    ``calendar_unreadable``. Any other refusal is ``channel_refused`` with the provider's
    words: the push address is the usual cause (not HTTPS: Google's 400
    ``push.webhookUrlNotHttps``; a domain Google will not call: its 401
    ``push.webhookUrlUnauthorized``, which the Google plugin words for the address, not
    the token), and such an answer may share its status with a bad token's, so the
    error's class alone does not tell.
    """
    if isinstance(err, ProviderError) and err.status in (404, 410):
        return format_reason(ReasonCode.CALENDAR_UNREADABLE, str(err))
    return format_reason(ReasonCode.CHANNEL_REFUSED, str(err) or type(err).__name__)
