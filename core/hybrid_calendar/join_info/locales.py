"""Localized wording of the join block, and mapping of calendar locale codes to it.

Google Calendar's ``locale`` setting uses codes such as ``de``, ``en_GB``, ``pt_BR``,
``zh_TW`` or ``es_419``; :func:`normalize_locale` maps each to a language we have texts
for, falling back to English.
"""

from __future__ import annotations

from collections.abc import Mapping

FALLBACK = "en"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {"header": "Join the meeting", "link": "Join link", "number": "Meeting number",
           "passcode": "Passcode", "video": "Join from a video system",
           "footer": "Join details added by your calendar gateway."},
    "de": {"header": "An der Besprechung teilnehmen", "link": "Link zur Teilnahme",
           "number": "Meetingnummer", "passcode": "Kenncode",
           "video": "Über ein Videosystem teilnehmen",
           "footer": "Teilnahmedaten, hinzugefügt von Ihrem Kalender-Gateway."},
    "fr": {"header": "Rejoindre la réunion", "link": "Lien pour rejoindre",
           "number": "Numéro de réunion", "passcode": "Code secret",
           "video": "Rejoindre depuis un système vidéo",
           "footer": "Informations de connexion ajoutées par votre passerelle d'agenda."},
    "es": {"header": "Unirse a la reunión", "link": "Enlace para unirse",
           "number": "Número de reunión", "passcode": "Código de acceso",
           "video": "Unirse desde un sistema de vídeo",
           "footer": "Datos de acceso añadidos por su pasarela de calendario."},
    "it": {"header": "Partecipa alla riunione", "link": "Link per partecipare",
           "number": "Numero riunione", "passcode": "Codice di accesso",
           "video": "Partecipa da un sistema video",
           "footer": "Dettagli di accesso aggiunti dal gateway del calendario."},
    "pt": {"header": "Entrar na reunião", "link": "Link para entrar",
           "number": "Número da reunião", "passcode": "Senha",
           "video": "Entrar de um sistema de vídeo",
           "footer": "Detalhes de acesso adicionados pelo gateway de calendário."},
    "nl": {"header": "Deelnemen aan de vergadering", "link": "Deelnamelink",
           "number": "Vergaderingsnummer", "passcode": "Toegangscode",
           "video": "Deelnemen via een videosysteem",
           "footer": "Deelnamegegevens toegevoegd door uw agenda-gateway."},
    "ja": {"header": "会議に参加", "link": "参加リンク", "number": "会議番号",
           "passcode": "パスコード", "video": "ビデオ会議システムから参加",
           "footer": "参加情報はカレンダーゲートウェイによって追加されました。"},
    "zh": {"header": "加入会议", "link": "加入链接", "number": "会议号", "passcode": "密码",
           "video": "从视频系统加入", "footer": "加入信息由日历网关添加。"},
    "zh_TW": {"header": "加入會議", "link": "加入連結", "number": "會議號碼", "passcode": "密碼",
              "video": "從視訊系統加入", "footer": "加入資訊由行事曆閘道新增。"},
    "ko": {"header": "회의 참가", "link": "참가 링크", "number": "회의 번호", "passcode": "암호",
           "video": "영상 시스템에서 참가",
           "footer": "참가 정보는 캘린더 게이트웨이가 추가했습니다."},
    "sv": {"header": "Anslut till mötet", "link": "Länk för att ansluta",
           "number": "Mötesnummer", "passcode": "Lösenkod",
           "video": "Anslut från ett videosystem",
           "footer": "Anslutningsuppgifter tillagda av din kalendergateway."},
    "da": {"header": "Deltag i mødet", "link": "Link til deltagelse", "number": "Mødenummer",
           "passcode": "Adgangskode", "video": "Deltag fra et videosystem",
           "footer": "Deltagelsesoplysninger tilføjet af din kalendergateway."},
    "pl": {"header": "Dołącz do spotkania", "link": "Link do spotkania",
           "number": "Numer spotkania", "passcode": "Kod dostępu",
           "video": "Dołącz z systemu wideo",
           "footer": "Szczegóły dołączenia dodane przez bramę kalendarza."},
}
"""Wording per language: header, link, number, passcode, video and footer lines."""

_ALIASES = {"zh_tw": "zh_TW", "zh_hk": "zh_TW", "zh_hant": "zh_TW", "zh_mo": "zh_TW",
            "zh_cn": "zh", "zh_sg": "zh", "zh_hans": "zh"}


def normalize_locale(code: str | None) -> str:
    """Map a calendar locale (``pt_BR``, ``zh-TW``, ``en_GB``) to a key of :data:`TEXTS`."""
    if not code:
        return FALLBACK
    key = code.strip().replace("-", "_").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key in TEXTS:
        return key
    base = key.split("_", 1)[0]
    if base in _ALIASES:
        return _ALIASES[base]
    return base if base in TEXTS else FALLBACK


def texts(code: str | None) -> Mapping[str, str]:
    """The wording for a calendar locale (English when the language is not available)."""
    return TEXTS[normalize_locale(code)]
