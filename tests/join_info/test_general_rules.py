"""The general rules added after the held-out evaluation, each on its own inputs.

Quoted-printable text, ``<URL>`` wrapped over lines, line breaks inside ``href``, Sophos
Email links, regional Webex domains, VTC-id label wordings and links marked as backups.
"""

from __future__ import annotations

import base64

import pytest

from hybrid_calendar.join_info import detect, find_candidates
from hybrid_calendar.join_info.detect import best_join_info, is_backup
from hybrid_calendar.join_info.dial import teams_dial
from hybrid_calendar.join_info.extract import decode_quoted_printable, find_urls, prepare
from hybrid_calendar.join_info.unwrap import unwrap

from .helpers import event

BLUEJEANS = "https://bluejeans.com/444555666/7788?src=calendarLink"


def test_quoted_printable_is_decoded_on_clear_evidence() -> None:
    encoded = "Link:=0Ahttps://bluejeans.com/444555666/7788?src=3Dcalendar=\nLink=0A"
    assert decode_quoted_printable(encoded) == f"Link:\n{BLUEJEANS}\n"
    found = detect(event(encoded))
    assert found is not None and found.url == BLUEJEANS


@pytest.mark.parametrize("text", [
    "https://zoom.us/j/5551234567?t=20&x=0D",          # two escape-like pairs, no soft break
    "Total = 3D printing budget",                      # one
    "a =\nb",                                           # a lone soft break
])
def test_ordinary_text_is_not_taken_for_quoted_printable(text: str) -> None:
    assert decode_quoted_printable(text) == text


def test_bracketed_url_wrapped_over_lines_is_joined() -> None:
    text = "Join<https://acme.webex.com/acme/j.php?MTID=m0011\r\n2233445566778899aabbccddeeff>\nx"
    assert [url for _, url in find_urls(text)] == [
        "https://acme.webex.com/acme/j.php?MTID=m00112233445566778899aabbccddeeff"]


def test_unclosed_or_spaced_continuations_are_not_joined() -> None:
    assert [u for _, u in find_urls("<https://zoom.us/j/555\nnext line here>")] == [
        "https://zoom.us/j/555"]
    assert [u for _, u in find_urls("<https://zoom.us/j/555\n123 and more")] == [
        "https://zoom.us/j/555"]


def test_tab_and_line_breaks_are_removed_from_href() -> None:
    text = prepare('<a href="https://chime.aws/12345\n67890">Join</a>')
    assert text.hrefs == ("https://chime.aws/1234567890",)


def test_sophos_email_links_are_unwrapped() -> None:
    target = "https://meet.goto.com/123456789?x=a+b"
    encoded = base64.b64encode(target.encode()).decode()
    assert unwrap(f"https://us-west-2.protection.sophos.com?d=goto.com&u={encoded}&p=m&i=x"
                  ) == target
    assert unwrap("https://us-west-2.protection.sophos.com?d=x.com&u=bm90IGEgdXJs") \
        == "https://us-west-2.protection.sophos.com?d=x.com&u=bm90IGEgdXJs"


@pytest.mark.parametrize(("url", "dial"), [
    ("https://corp.webex.com.cn/corp/j.php?MTID=mabc", "1234567890@corp.webex.com.cn"),
    ("https://dept.webexgov.us/meet/jo", "jo@dept.webexgov.us"),
])
def test_regional_webex_domains(url: str, dial: str) -> None:
    found = detect(event(f"Join {url}\nMeeting number: 123 456 7890"))
    assert found is not None and (found.provider, found.dial) == ("webex", dial)


@pytest.mark.parametrize("label", [
    "Id. de conferencia de VTC", "ID de conférence VTC", "VTC-conferentie-id",
    "ID conferenza VTC", "VTC 会議 ID",
])
def test_vtc_id_label_wordings(label: str) -> None:
    text = f"Join with a video conferencing device\nroom@vc.acme.example\n{label}: 555 666 777 8\n"
    assert teams_dial(text) == "5556667778@vc.acme.example"


def test_a_label_that_only_mentions_video_is_no_vtc_id() -> None:
    assert teams_dial("room@vc.acme.example\nVTC instructions: 5556667778") is None


@pytest.mark.parametrize("before", [
    "Backup: ", "Fallback Zoom - ", "If Zoom fails, use ", "Please don't use the old link ",
    "Alter Link (nicht mehr verwenden): ", "Lien de secours : ", "Backup (Zoom):\n",
])
def test_backup_links_rank_after_the_others(before: str) -> None:
    text = f"{before}https://zoom.us/j/5550001234\nMeeting: https://chime.aws/1234567890"
    assert is_backup(text, text.find("https://zoom"))
    found = detect(event(text))
    assert found is not None and found.provider == "chime"
    zoom = [c for c in find_candidates(event(text)) if c.provider == "zoom"]
    assert zoom and zoom[0].extra["role"] == "backup"


def test_a_backup_link_alone_is_still_used() -> None:
    found = best_join_info(find_candidates(event("Backup bridge: https://zoom.us/j/5550001234")))
    assert found is not None and found.provider == "zoom"


@pytest.mark.parametrize("before", ["Join Zoom Meeting\n", "Alternatively, join here: ",
                                    "Hold on tight: "])
def test_ordinary_wording_is_no_backup(before: str) -> None:
    text = f"{before}https://zoom.us/j/5550001234"
    assert not is_backup(text, text.find("https://"))


def test_backup_mark_does_not_reach_past_the_previous_link() -> None:
    text = "Webex (fallback) https://acme.webex.com/meet/jo ; Chime https://chime.aws/1234567890"
    assert is_backup(text, text.find("https://acme"))
    assert not is_backup(text, text.find("https://chime"), text.find(" ; Chime"))
    found = detect(event(location=text))
    assert found is not None and found.provider == "chime"


def test_the_first_meeting_of_a_service_wins_over_a_longer_later_one() -> None:
    text = ("New: https://bluejeans.com/111222333\n"
            "Old: https://bluejeans.com/444555666/7788?src=calendarLink")
    found = detect(event(text))
    assert found is not None and found.url == "https://bluejeans.com/111222333"


def test_the_longer_link_of_the_same_meeting_still_wins() -> None:
    text = "https://zoom.us/j/5551234567 or https://us02web.zoom.us/j/5551234567?pwd=AbC.1"
    found = detect(event(text))
    assert found is not None and found.url is not None and found.url.endswith("?pwd=AbC.1")


@pytest.mark.parametrize(("url", "provider"), [
    ("https://meet.fabrikam.example/anna/7QK2M9XZ", "skypeforbusiness"),
    ("https://join.slack.com/t/fabrikamteam/shared_invite/zt-9xyz", None),
])
def test_self_hosted_skype_ids_are_upper_case(url: str, provider: str | None) -> None:
    found = detect(event(f"Link: {url}"))
    assert (found.provider if found else None) == provider
