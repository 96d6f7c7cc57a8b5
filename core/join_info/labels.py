"""Labelled values in invitations ("Meeting ID: 855 1234 5678", "Passcode: 482913").

A :class:`Label` finds each label with ``str.find`` on the lower-cased text (fast, and
linear), then reads the value right after it with an anchored regular expression. Labels
are listed in the languages meeting services write invitations in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

SEPARATOR = (r"[ \t\u00a0]{0,3}(?:[(（][^()（）\n]{0,40}[)）])?[ \t\u00a0]{0,3}[:：#]?"
             r"[ \t\u00a0]{0,3}")
"""Between a label and its value: blanks, an optional ``(note)``, an optional colon."""


class Label:
    """Values introduced by any of several labels."""

    def __init__(self, labels: tuple[str, ...], value: str) -> None:
        self.labels = tuple(label.lower() for label in labels)
        self.value = re.compile(SEPARATOR + "(" + value + ")")

    def locate(self, text: str, limit: int = 8) -> Iterator[tuple[int, str]]:
        """``(position, value)`` in order of appearance; at most ``limit`` labels tried."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lowered
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        lowered = lowered.replace("\u00a0", " ")
        hits: list[tuple[int, int]] = []
        for label in self.labels:
            start = lowered.find(label)
            while start >= 0 and len(hits) < 64:
                hits.append((start, start + len(label)))
                start = lowered.find(label, start + len(label))
        hits.sort()
        tried = 0
        for start, end in hits:
            if start > 0 and lowered[start - 1].isalnum() and lowered[start].isascii():
                continue  # a Latin label must start a word ("paid" is no "id")
            found = self.value.match(text, end)
            if found is not None:
                yield start, found.group(1)
            tried += 1
            if tried >= limit:
                return

    def finditer(self, text: str, limit: int = 8) -> Iterator[str]:
        """Values in order of appearance."""
        return (value for _, value in self.locate(text, limit))

    def search(self, text: str) -> str | None:
        """The first value, or ``None``."""
        return next(self.finditer(text), None)


MEETING_NUMBER = Label((
    "meeting number", "meeting id", "meeting no.", "meeting no", "access code",
    "webinar number", "webinar id", "meetingnummer", "meeting-nummer", "besprechungs-id",
    "meeting-id", "konferenz-id", "numéro de réunion", "numéro de la réunion",
    "id de réunion", "id de la réunion", "número de reunión", "número de la reunión",
    "id de reunión", "id de la reunión", "número da reunião", "id da reunião",
    "numero riunione", "numero della riunione", "id riunione", "id della riunione",
    "vergaderingsnummer", "vergader-id", "会議番号", "ミーティングid", "ミーティング id",
    "会议号", "会议id", "会议 id", "會議號", "會議id", "會議 id", "회의 번호", "회의번호",
    "회의 id", "회의id", "meeting-kennnummer", "kennnummer", "ミーティング番号", "미팅 번호",
    "미팅번호", "会议号码", "會議號碼", "tencent meeting id", "腾讯会议号", "meeting code",
), r"\d[\d \u00a0-]{5,16}\d")
"""Meeting numbers (Webex, Zoom, Teams, Tencent...)."""

PASSCODE = Label((
    "passcode", "pass code", "password", "kenncode", "passwort", "code secret",
    "mot de passe", "código de acceso", "codigo de acceso", "contraseña", "senha",
    "codice d'accesso", "codice di accesso", "toegangscode", "wachtwoord", "パスコード",
    "パスワード", "密码", "密碼", "암호", "비밀번호",
), r"[\w!@#$%^&*.+=-]{1,32}")
"""Meeting passcodes."""

VTC_ID = Label((
    "vtc conference id", "video conference id", "vtc id", "video id", "videokonferenz-id",
    "video-id", "id de vidéoconférence", "id de la vidéoconférence", "id vidéo",
    "id. de videoconferencia", "id de videoconferencia", "id do vídeo", "id video",
    "ビデオ会議 id", "ビデオ id", "视频会议 id", "視訊會議 id", "화상 회의 id",
), r"\d[\d \u00a0]{4,20}\d")
"""Teams' video-device conference ids (Cloud Video Interop)."""
