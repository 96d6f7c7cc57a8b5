"""Labelled values in invitations ("Meeting ID: 855 1234 5678", "Passcode: 482913").

A :class:`Label` looks at each colon, checks whether the words before it end with one of
its labels (an optional ``(note)`` between label and colon is skipped), then reads the
value after the colon with an anchored regular expression: linear in the text. Labels
are listed in the languages meeting services write invitations in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


class Colons:
    """The colons of a text with the lower-cased words before each: built once per text
    and shared by every :class:`Label`."""

    __slots__ = ("entries", "scans", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.scans: dict[Label, list[tuple[int, str]]] = {}
        """Each :class:`Label`'s first :data:`_SCAN_LIMIT` values in this text."""
        self.entries: list[tuple[int, int, str]] = []
        """``(label end, value start, lower-cased words before)`` per colon."""
        positions = _colon_positions(text)
        for end in positions[:_MAX_COLONS]:
            if text.startswith("//", end + 1):
                continue  # a URL scheme
            window = text[max(0, end - _WINDOW):end].rstrip(" \t\u00a0")
            if window.endswith((")", "）")):
                cut = max(window.rfind("("), window.rfind("（"))
                if cut < 0:
                    continue
                window = window[:cut].rstrip(" \t\u00a0")
            self.entries.append((end, end + 1, window.lower().replace("\u00a0", " ")))


def _colon_positions(text: str) -> list[int]:
    positions: list[int] = []
    for colon in ":：":
        at = text.find(colon)
        while at >= 0 and len(positions) < 2 * _MAX_COLONS:
            positions.append(at)
            at = text.find(colon, at + 1)
    positions.sort()
    return positions


class Label:
    """Values introduced by any of several labels followed by a colon.

    Each colon in the text is a possible label end: the words before it (minus a
    ``(note)``) are compared with the labels using ``str.endswith``, so the cost grows
    with the number of colons, not with the number of labels.
    """

    def __init__(self, labels: tuple[str, ...], value: str,
                 shape: str | None = None, hint: str = "") -> None:
        self.labels = tuple(label.lower() for label in labels)
        by_last: dict[str, list[str]] = {}
        for label in self.labels:
            by_last.setdefault(label[-1], []).append(label)
        self._by_last = {last: tuple(group) for last, group in by_last.items()}
        """The labels by their last character, in listed order: only those can end the
        words before a colon, so ``endswith`` tests a handful instead of every label."""
        self.value = re.compile(r"[ \t\u00a0]{0,3}(" + value + ")")
        self.shape = re.compile(shape) if shape else None
        """Regex (ending in ``$``) for label wordings not listed: tried on the lower-cased
        words before a colon that contain ``hint`` when no listed label matches."""
        self.hint = hint

    def locate(self, text: str | Colons, limit: int = 8) -> Iterator[tuple[int, str]]:
        """``(position of the label, value)`` in order of appearance."""
        return iter(self._values(text if isinstance(text, Colons) else Colons(text), limit))

    def first(self, text: str | Colons) -> tuple[int, str] | None:
        """The first ``(position of the label, value)``, or ``None``."""
        found = self._values(text if isinstance(text, Colons) else Colons(text), 1)
        return found[0] if found else None

    def _values(self, colons: Colons, limit: int) -> list[tuple[int, str]]:
        """The first ``limit`` values: scanned once per text for up to
        :data:`_SCAN_LIMIT` (a text's meeting number, passcode and numeric passcode are
        each asked for), again only for a larger ``limit``."""
        found = colons.scans.get(self)
        if found is None:
            found = colons.scans[self] = self._scan(colons, _SCAN_LIMIT)
        if limit <= len(found) or len(found) < _SCAN_LIMIT:
            return found[:limit]
        return self._scan(colons, limit)

    def finditer(self, text: str | Colons, limit: int = 8) -> Iterator[str]:
        """Values in order of appearance."""
        return (value for _, value in self.locate(text, limit))

    def search(self, text: str | Colons) -> str | None:
        """The first value, or ``None``."""
        found = self.first(text)
        return found[1] if found is not None else None

    def _scan(self, colons: Colons, limit: int) -> list[tuple[int, str]]:
        """The first ``limit`` ``(position of the label, value)`` pairs (a plain loop: a
        generator per label costs more than the scan of a few colons)."""
        found: list[tuple[int, str]] = []
        by_last = self._by_last
        for end, value_start, lowered in colons.entries:
            listed = by_last.get(lowered[-1:])
            if listed is not None and lowered.endswith(listed):
                for label in listed:  # the first listed one it ends with
                    if lowered.endswith(label):
                        break
            else:
                shaped = self.shape.search(lowered) if self.shape is not None \
                    and self.hint in lowered else None
                if shaped is None:
                    continue
                label = shaped.group()
            before = lowered[-len(label) - 1] if len(lowered) > len(label) else " "
            if before.isalnum() and label[0].isascii():
                continue  # a Latin label must start a word ("paid" is no "id")
            value = self.value.match(colons.text, value_start)
            if value is not None:
                found.append((end - len(label), value.group(1)))
                if len(found) >= limit:
                    break
        return found


_WINDOW = 80
"""Characters before a colon that may hold a label and its note."""
_MAX_COLONS = 2000
"""Colons looked at per text (a hostile text may have many)."""
_SCAN_LIMIT = 8
"""Values a :class:`Label` finds in one scan of a text and keeps for later questions."""


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
), r"[\w!@#$%^&*.+=?-]{0,31}[\w!@#$%^&*+=-]")
"""Meeting passcodes."""

VTC_ID = Label((
    "vtc conference id", "video conference id", "vtc id", "video id", "videokonferenz-id",
    "video-id", "id de vidéoconférence", "id de la vidéoconférence", "id vidéo",
    "id. de videoconferencia", "id de videoconferencia", "id do vídeo", "id video",
    "ビデオ会議 id", "ビデオ id", "视频会议 id", "視訊會議 id", "화상 회의 id",
), r"\d[\d \u00a0]{4,20}\d",
    shape=r"\bvtc\b[^:\n]{0,30}\bid\.?$|\bid\.?[ \u00a0][^:\n]{0,30}\bvtc$"
          r"|\bvtc[ \u00a0]?(?:会議|会议|會議)[ \u00a0]?id$", hint="vtc")
"""Teams' video-device conference ids (Cloud Video Interop): the listed wordings, and any
label that names VTC and an id ("Id. de conferencia de VTC", "VTC-conferentie-id")."""
