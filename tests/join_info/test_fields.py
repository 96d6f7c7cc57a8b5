"""Meeting ids and passcodes reported with a link, and link boundaries in running text."""

from __future__ import annotations

import pytest

from hybrid_calendar.join_info import detect

from .helpers import event
from .invitations import TEAMS_VTC, WEBEX_SCHEDULED, ZOOM, ZOOM_DE


@pytest.mark.parametrize(("body", "meeting_id", "passcode"), [
    (ZOOM, "85512345678", "482913"),
    (ZOOM_DE, "81234567890", "135790"),
    (TEAMS_VTC, "245896123456", "x7KmQp"),
    (WEBEX_SCHEDULED, "26341234567", "Ab12Cd34"),
])
def test_labelled_meeting_id_and_passcode(body: str, meeting_id: str, passcode: str) -> None:
    found = detect(event(body))
    assert found is not None
    assert (found.meeting_id, found.passcode) == (meeting_id, passcode)


def test_no_labels_for_services_without_them() -> None:
    found = detect(event("Meeting ID: 123 456 789\nJitsi: https://meet.jit.si/Room"))
    assert found is not None and (found.meeting_id, found.passcode) == (None, None)


@pytest.mark.parametrize(("text", "url"), [
    ("会议链接：https://meeting.tencent.com/dm/AbCd123。请准时参加",
     "https://meeting.tencent.com/dm/AbCd123"),
    ("(see https://zoom.us/j/123456789)", "https://zoom.us/j/123456789"),
    ("[Join](https://zoom.us/j/123456789)", "https://zoom.us/j/123456789"),
    ("Link: https://zoom.us/j/123456789...", "https://zoom.us/j/123456789"),
    ("«https://meet.jit.si/Room»", "https://meet.jit.si/Room"),
    ("<https://meet.jit.si/Room>,", "https://meet.jit.si/Room"),
    ("https://en.wikipedia.org/wiki/Foo_(bar) and https://meet.jit.si/Room_(1)",
     "https://meet.jit.si/Room_(1)"),
])
def test_link_boundaries(text: str, url: str) -> None:
    found = detect(event(text))
    assert found is not None and found.url == url


def test_upper_case_html_attributes() -> None:
    found = detect(event('<P><A HREF="https://meet.jit.si/Room">Join</A></P>'))
    assert found is not None and found.url == "https://meet.jit.si/Room"


def test_labels_skip_a_note_and_need_a_word_start() -> None:
    found = detect(event("Meeting number (access code): 2634 123 4567\n"
                         "https://acme.webex.com/acme/j.php?MTID=m0123456789"))
    assert found is not None and found.meeting_id == "26341234567"
    unpaid = detect(event("Unpaid: 123 456 789\nhttps://acme.webex.com/acme/j.php?MTID=m01234"))
    assert unpaid is not None and unpaid.meeting_id is None
