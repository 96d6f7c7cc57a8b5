"""Precedence between sources and candidates, and negative cases."""

from __future__ import annotations

import pytest

from hybrid_calendar.join_info import best_join_info, detect, find_candidates
from hybrid_calendar.models import JoinInfo
from hybrid_calendar_google.event_json import event_from_google

from .helpers import conference, event

ZOOM = "https://acme.zoom.us/j/91234567890"
TEAMS = "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf"
MEET = "https://meet.google.com/abc-defg-hij"


def test_conference_beats_location_beats_body() -> None:
    full = event(f"Teams: {TEAMS}", f"Zoom {ZOOM}", conference(MEET, "hangoutsMeet"))
    found = detect(full)
    assert found is not None and found.source == "conference"
    assert found.provider == "meet"
    no_conference = event(f"Teams: {TEAMS}", f"Zoom {ZOOM}")
    found = detect(no_conference)
    assert found is not None and (found.provider, found.source) == ("zoom", "location")
    body_only = detect(event(f"Teams: {TEAMS}"))
    assert body_only is not None and (body_only.provider, body_only.source) == ("teams", "body")


def test_longer_url_wins_a_tie_and_keeps_zoom_pwd() -> None:
    body = f"Join {ZOOM}\nor with passcode: {ZOOM}?pwd=SeCrEt.1"
    found = detect(event(body))
    assert found is not None and found.url == f"{ZOOM}?pwd=SeCrEt.1"


def test_join_link_beats_sip_address_and_weak_link_in_same_source() -> None:
    body = ("Watch the all-hands stream https://www.youtube.com/watch?v=AbCdEfGhIjK&t=42s\n"
            "Video system: sip:room@vc.example.org\n"
            f"Zoom: {ZOOM}")
    found = detect(event(body))
    assert found is not None and found.provider == "zoom"
    alone = detect(event("Stream: https://www.youtube.com/watch?v=AbCdEfGhIjK"))
    assert alone is not None and (alone.provider, alone.url) == (  # a weak link alone counts
        "youtube", "https://www.youtube.com/watch?v=AbCdEfGhIjK")


def test_weak_link_loses_to_sip_address() -> None:
    body = ("Stream https://www.youtube.com/watch?v=AbCdEfGhIjK\n"
            "Join from a video system: sip:room@vc.example.org")
    found = detect(event(body))
    assert found is not None and found.provider == "sip"


def test_best_join_info_of_nothing_is_none() -> None:
    assert best_join_info([]) is None


def test_best_borrows_dial_of_same_provider() -> None:
    link = JoinInfo(provider="webex", url="https://acme.webex.com/meet/jo", source="location")
    sip = JoinInfo(provider="webex", url=None, source="body", dial="jo@acme.webex.com")
    other = JoinInfo(provider="sip", url=None, source="body", dial="x@vc.example.org")
    best = best_join_info([other, sip, link])
    assert best is not None
    assert (best.url, best.source, best.dial) == (link.url, "location", "jo@acme.webex.com")


def test_detect_borrows_the_dial_string_from_a_later_source() -> None:
    link = "https://acme.webex.com/acme/j.php?MTID=m123"  # a meeting link: no dial in it
    evt = event("sip:jo@acme.webex.com", location=link)
    best = detect(evt)
    assert best is not None
    assert (best.url, best.source, best.dial) == (link, "location", "jo@acme.webex.com")
    assert best == best_join_info(find_candidates(evt))


def test_earlier_candidate_wins_a_full_tie() -> None:
    first = JoinInfo(provider="zoom", url="https://zoom.us/j/11111111111", source="body")
    second = JoinInfo(provider="zoom", url="https://zoom.us/j/22222222222", source="body")
    assert best_join_info([first, second]) is first
    assert best_join_info([second, first]) is second


def test_duplicate_links_are_registered_once() -> None:
    body = f'<a href="{ZOOM}">{ZOOM}</a><br>{ZOOM}'
    assert len([c for c in find_candidates(event(body)) if c.url == ZOOM]) == 1


def test_zoom_add_on_conference_data() -> None:
    resource = {
        "id": "e1", "summary": "x",
        "conferenceData": {
            "entryPoints": [
                {"entryPointType": "video", "uri": "https://us06web.zoom.us/j/81234567890?pwd=a",
                 "label": "us06web.zoom.us/j/81234567890?pwd=a", "meetingCode": "81234567890",
                 "passcode": "112233"},
                {"entryPointType": "phone", "uri": "tel:+16699006833,,81234567890#"},
            ],
            "conferenceSolution": {"key": {"type": "addOn"}, "name": "Zoom Meeting"},
            "conferenceId": "81234567890"}}
    found = detect(event_from_google(resource))
    assert found is not None
    assert (found.provider, found.source, found.dial, found.meeting_id, found.passcode) == (
        "zoom", "conference", "81234567890.112233@zoomcrc.com", "81234567890", "112233")


def test_conference_sip_entry_point_is_the_dial_string() -> None:
    conf = conference("https://video.example.org/join/123", name="Acme Video")
    conf = type(conf)(solution="addOn", name="Acme Video", entry_points=(
        *conf.entry_points,
        type(conf.entry_points[0])(kind="sip", uri="sip:123@video.example.org")))
    found = detect(event(conference=conf))
    assert found is not None
    assert (found.provider, found.url, found.dial) == (
        "example", "https://video.example.org/join/123", "123@video.example.org")


def test_hangout_link_without_conference_data() -> None:
    found = detect(event_from_google({"id": "e", "hangoutLink": MEET}))
    assert found is not None and (found.provider, found.url, found.source) == (
        "meet", MEET, "conference")


@pytest.mark.parametrize("body", [
    "",
    "Room 4.01, second floor",
    "Contact jo@webex.com or jane@zoom.us for questions",
    "Call me: tel:+1-555-0100 or +1 555 0100",
    "See https://www.google.com/maps/place/Acme+HQ and https://docs.google.com/document/d/1/edit",
    "We use zoom.us and webex.com and teams.microsoft.com for calls",
    "Reference: https://example.com/?next=https://zoom.us/j/123456789",
    "Help: https://help.webex.com/en-us/article/abc, download https://zoom.us/download",
    "Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.microsoft.com/"
    "meetingOptions/?organizerId=1>",
    "<p>Agenda:</p><ul><li>budget</li><li>hiring</li></ul>",
    "Dinner at https://www.opentable.com/r/acme-restaurant",
])
def test_no_join_information(body: str) -> None:
    assert detect(event(body, location=body)) is None


def test_detect_equals_ranking_all_candidates() -> None:
    from .invitations import INVITES

    texts = [invite.body for invite in INVITES] + ["", "sip:jo@acme.webex.com"]
    locations = ["", "Room 1", ZOOM, f"Teams {TEAMS}", "sip:room@vc.example.org",
                 "https://acme.webex.com/meet/jo", "https://acme.webex.com/acme/j.php?MTID=m1"]
    conferences = [None, conference(MEET, "hangoutsMeet")]
    for body in texts:
        for location in locations:
            for conf in conferences:
                evt = event(body, location, conf)
                assert detect(evt) == best_join_info(find_candidates(evt))


def test_first_service_in_the_text_wins_over_a_longer_later_link() -> None:
    body = f"Primary: {ZOOM}\nIf that fails: {TEAMS}"
    found = detect(event(body))
    assert found is not None and found.provider == "zoom"
    swapped = detect(event(f"Primary: {TEAMS}\nBackup: {ZOOM}?pwd=a-much-longer-link-here"))
    assert swapped is not None and swapped.provider == "teams"


def test_bare_and_scheme_links_keep_text_order() -> None:
    found = detect(event("Primary meet.google.com/abc-defg-hij, backup https://zoom.us/j/123456789"))
    assert found is not None and found.provider == "meet"


@pytest.mark.parametrize("body", [
    "For video questions contact helpdesk@acme.example",
    "Dial-in issues? email support@acme.example",
    "Video system booking: write to rooms@acme.example",
    "Organiser: jane.doe@acme.example\nAttendees: bob@acme.example",
    "SIP trunk questions: send mail to voice-team@acme.example",
])
def test_email_addresses_near_video_words_are_not_sip(body: str) -> None:
    assert detect(event(body)) is None


@pytest.mark.parametrize(("body", "dial"), [
    ("Join from a video system: 7788@vc.acme.example", "7788@vc.acme.example"),
    ("Video conferencing device\nroom42@bridge.acme.example", "room42@bridge.acme.example"),
    ("Or dial directly: 123456789@10.1.2.3", "123456789@10.1.2.3"),
    ("H.323/SIP: 5566@mcu.acme.example", "5566@mcu.acme.example"),
    ("Rejoindre depuis un système vidéo : 4455@vc.acme.example", "4455@vc.acme.example"),
])
def test_labelled_sip_addresses(body: str, dial: str) -> None:
    found = detect(event(body))
    assert found is not None and (found.provider, found.dial, found.url) == ("sip", dial, None)


def test_numeric_address_alone_in_location_is_a_video_address() -> None:
    found = detect(event(location="688432@rp1.vc"))
    assert found is not None and (found.provider, found.dial, found.source) == (
        "sip", "688432@rp1.vc", "location")
    labelled = detect(event(location="Video: room@rp1.vc"))
    assert labelled is not None and (labelled.provider, labelled.dial, labelled.source) == (
        "sip", "room@rp1.vc", "location")
    assert detect(event(location="jane@acme.example")) is None
    assert detect(event("Student 123456@students.example.edu")) is None


def test_webex_add_on_conference_data() -> None:
    resource = {"id": "e", "conferenceData": {
        "entryPoints": [
            {"entryPointType": "video",
             "uri": "https://acme.webex.com/acme/j.php?MTID=m0123456789abcdef0123456789abcdef",
             "meetingCode": "2634 123 4567", "password": "Ab12Cd34"},
            {"entryPointType": "phone", "uri": "tel:+1-415-655-0001,,26341234567#"}],
        "conferenceSolution": {"key": {"type": "addOn"}, "name": "Webex Meetings"}}}
    found = detect(event_from_google(resource))
    assert found is not None
    assert (found.provider, found.source, found.dial, found.meeting_id, found.passcode) == (
        "webex", "conference", "26341234567@acme.webex.com", "26341234567", "Ab12Cd34")


def test_unknown_conference_service_is_named_after_the_solution() -> None:
    found = detect(event(conference=conference("https://vc.globex.example/r/42",
                                               name="Globex Video")))
    assert found is not None and found.provider == "globex"
    named = detect(event(conference=conference("https://gw.example.org/j/1",
                                               name="Zoom Meeting")))
    assert named is not None and named.provider == "zoom"
