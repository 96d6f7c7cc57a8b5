"""When Webex cannot make the meeting: a short note for the invite, a reason for health.

A refusal is not retried by itself (the same request would be refused again). The invite
gets a localized one-line note in the join block, the keyword stays in Location, and the
core writes a refusal marker that lets the next edit of the event retry (see
:func:`hybrid_calendar.join_info.render.plan_invite_update`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from hybrid_calendar.join_info.locales import normalize_locale
from hybrid_calendar.models import JoinInfo


class Refusal(enum.StrEnum):
    """Why no Webex meeting was made."""

    NO_ACCOUNT = "no_account"
    """The organiser has no Webex account in the organisation."""
    PAST = "past"
    """The meeting starts in the past."""
    DURATION = "duration"
    """The meeting is shorter than 10 minutes or longer than 24 hours."""
    SCOPE = "scope"
    """The gateway's Webex identity lacks a permission (scope) it needs."""
    NOT_CONFIGURED = "not_configured"
    """The gateway has no Webex credentials."""
    OTHER = "other"
    """Webex refused for another reason (in the health reason)."""


HEALTH: Mapping[Refusal, str] = {
    Refusal.NO_ACCOUNT: "the organiser has no Webex account",
    Refusal.PAST: "the meeting starts in the past",
    Refusal.DURATION: "Webex meetings last 10 minutes to 24 hours",
    Refusal.SCOPE: "the gateway's Webex identity lacks a required scope",
    Refusal.NOT_CONFIGURED: "no Webex credentials are configured",
    Refusal.OTHER: "Webex refused the meeting",
}
"""The reason shown in the user's health (admin API), in English for admins."""

NOTES: Mapping[str, Mapping[Refusal, str]] = {
    "en": {Refusal.NO_ACCOUNT: "No Webex meeting was created: you have no Webex account.",
           Refusal.PAST: "No Webex meeting was created: the meeting starts in the past.",
           Refusal.DURATION: "No Webex meeting was created: Webex meetings last 10 minutes "
                             "to 24 hours.",
           Refusal.SCOPE: "No Webex meeting was created: the calendar gateway lacks a "
                          "Webex permission. Your administrator has been told.",
           Refusal.NOT_CONFIGURED: "No Webex meeting was created: Webex is not set up for "
                                   "your organisation.",
           Refusal.OTHER: "No Webex meeting was created: Webex refused it."},
    "de": {Refusal.NO_ACCOUNT: "Kein Webex-Meeting erstellt: Sie haben kein Webex-Konto.",
           Refusal.PAST: "Kein Webex-Meeting erstellt: Der Termin liegt in der "
                         "Vergangenheit.",
           Refusal.DURATION: "Kein Webex-Meeting erstellt: Webex-Meetings dauern 10 Minuten "
                             "bis 24 Stunden.",
           Refusal.SCOPE: "Kein Webex-Meeting erstellt: Dem Kalender-Gateway fehlt eine "
                          "Webex-Berechtigung. Ihr Administrator wurde informiert.",
           Refusal.NOT_CONFIGURED: "Kein Webex-Meeting erstellt: Webex ist für Ihre "
                                   "Organisation nicht eingerichtet.",
           Refusal.OTHER: "Kein Webex-Meeting erstellt: Webex hat es abgelehnt."},
    "fr": {Refusal.NO_ACCOUNT: "Aucune réunion Webex créée : vous n'avez pas de compte "
                               "Webex.",
           Refusal.PAST: "Aucune réunion Webex créée : la réunion commence dans le passé.",
           Refusal.DURATION: "Aucune réunion Webex créée : une réunion Webex dure de 10 "
                             "minutes à 24 heures.",
           Refusal.SCOPE: "Aucune réunion Webex créée : il manque une autorisation Webex à "
                          "la passerelle d'agenda. Votre administrateur est prévenu.",
           Refusal.NOT_CONFIGURED: "Aucune réunion Webex créée : Webex n'est pas configuré "
                                   "pour votre organisation.",
           Refusal.OTHER: "Aucune réunion Webex créée : Webex l'a refusée."},
    "es": {Refusal.NO_ACCOUNT: "No se creó la reunión Webex: no tiene cuenta de Webex.",
           Refusal.PAST: "No se creó la reunión Webex: la reunión empieza en el pasado.",
           Refusal.DURATION: "No se creó la reunión Webex: las reuniones Webex duran de 10 "
                             "minutos a 24 horas.",
           Refusal.SCOPE: "No se creó la reunión Webex: a la pasarela de calendario le "
                          "falta un permiso de Webex. Se ha avisado a su administrador.",
           Refusal.NOT_CONFIGURED: "No se creó la reunión Webex: Webex no está configurado "
                                   "para su organización.",
           Refusal.OTHER: "No se creó la reunión Webex: Webex la rechazó."},
}
"""The note written into the invite, per language (English for the others)."""


def refusal_join(refusal: Refusal, locale: str | None) -> JoinInfo:
    """The join information of a refused keyword: no link, a localized note."""
    language = normalize_locale(locale)
    notes = NOTES.get(language) or NOTES.get(language.split("_", 1)[0]) or NOTES["en"]
    return JoinInfo(provider="webex", url=None, source="refused",
                    extra={"note": notes[refusal], "refusal": str(refusal)})
