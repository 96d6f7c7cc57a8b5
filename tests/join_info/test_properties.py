"""Property tests: the detector never crashes and stays linear on hostile input.

The hostile bodies are ~100 kB of patterns that make naive URL, e-mail and HTML regexes
backtrack quadratically or worse; a linear scan handles each in milliseconds, a quadratic
one would take minutes. Hypothesis' per-example deadline is set far above the expected
time only so that such a regression fails instead of hanging the suite.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid_calendar.join_info import detect, find_keyword
from hybrid_calendar.join_info.extract import MAX_TEXT, prepare
from hybrid_calendar.join_info.unwrap import unwrap
from hybrid_calendar.models import JoinInfo

from .helpers import event

PIECES = ["https://", "http://", "zoom.us/j/", "@", ".", "a", "1", "-", "<", ">", "<a href=\"",
          "\"", "&amp;", "sip:", "Meeting ID: ", "Passcode: ", "VTC Conference ID: ", "\n",
          " ", "webex.com/meet/", "?pwd=", "%", "*", "__;", "urldefense.com/v3/__", ":",
          "www.google.com/url?q=", "safelinks.protection.outlook.com/?url=", "@webex", "é",
          "会議番号: ", "<br>", "\u00a0", "/", "=3D", "=0A", "=\n", "\r\n", "<https://",
          "x.protection.sophos.com?u=", "Backup: ", "old link ", "Id. de VTC: "]
text = st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=60).map("".join)


def _valid(found: JoinInfo | None) -> None:
    if found is not None:
        assert found.provider and found.provider == found.provider.lower()
        assert found.source in ("conference", "location", "body")
        assert found.url is not None or found.dial is not None


@settings(max_examples=300, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.too_slow])
@given(description=text, location=text)
def test_detect_never_crashes(description: str, location: str) -> None:
    _valid(detect(event(description, location)))


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(location=text)
def test_find_keyword_never_crashes(location: str) -> None:
    request = find_keyword(location)
    if request is not None:
        assert request.raw in location and request.raw.startswith("@")


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(url=text)
def test_unwrap_never_crashes(url: str) -> None:
    assert isinstance(unwrap("https://" + url), str)


HOSTILE = [
    "a" * 100_000,
    "a." * 50_000,
    "@" * 100_000,
    "a@" * 50_000,
    "a@a." * 25_000,
    "<" * 100_000,
    "<a " * 33_000,
    "<a href=\"" * 10_000,
    "https://" * 12_000,
    "https://a" * 11_000,
    "zoom.us/" * 12_000,
    "x.zoom.us/j/1 " * 7_000,
    "Meeting ID: " * 8_000,
    "Passcode: 1 " * 8_000,
    "VTC Conference ID: 1 a@b.cc " * 3_000,
    "sip:" * 25_000,
    "-" * 100_000,
    "1 " * 50_000,
    "*" * 100_000,
    "&amp;" * 20_000,
    ("https://urldefense.com/v3/__" + "*" * 5_000 + "__;") * 10,
    "https://www.google.com/url?q=" * 3_000,
    "@webex:" * 14_000,
    "sips:" * 20_000,
    "h323:a" * 16_000,
    "msteams:/" * 11_000,
    "a/" * 50_000,
    "a.bc/" * 20_000,
    "a" * 300 + "/" + "b" * 300 + "/" * 1000,
    "1@" * 50_000,
    "meet.google.com/" * 6_000,
    "<https://zoom.us/j/1\n" * 5_000,
    "<https://a.b/" + "c\n" * 50_000,
    "=3D=0A=\n" * 12_000,
    "backup old https://zoom.us/j/123456789 " * 2_500,
    "vtc id: 1234567 " * 6_000,
]


@settings(max_examples=len(HOSTILE), deadline=timedelta(seconds=5), database=None)
@given(st.sampled_from(range(len(HOSTILE))))
def test_hostile_bodies_finish(index: int) -> None:
    body = HOSTILE[index]
    assert len(prepare(body).plain) <= MAX_TEXT
    _valid(detect(event(body, body[:5000])))
    find_keyword(body)


def test_each_hostile_body_is_checked() -> None:
    for body in HOSTILE:
        _valid(detect(event(body)))
        _valid(detect(event(location=body)))


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(local=st.from_regex(r"[A-Za-z0-9._%+-]{0,20}[A-Za-z0-9]", fullmatch=True),
       tail=st.sampled_from(["", ".com", ":onetime", " ", ","]))
def test_an_email_address_is_never_a_keyword(local: str, tail: str) -> None:
    assert find_keyword(f"{local}@webex{tail}") is None
    assert find_keyword(f"{local}@meet{tail}") is None


organiser_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200).filter(
    lambda t: "-::~" not in t)
join_urls = st.sampled_from(["https://acme.webex.com/meet/jdoe", "https://zoom.us/j/1234567890",
                             "https://meet.google.com/abc-defg-hij"])


def test_an_html_like_text_typed_after_a_plain_block_keeps_the_update_a_fixpoint() -> None:
    import dataclasses

    from hybrid_calendar.join_info import MARKER_KEY, plan_invite_update

    link = "https://acme.webex.com/meet/jdoe"
    evt = event("", "@webex")
    update = plan_invite_update(evt, JoinInfo("webex", link, "created"), "en")
    assert update is not None
    done = dataclasses.replace(evt, location=update.location,
                               description=update.description + "<A",
                               private_properties={MARKER_KEY: update.marker})
    assert plan_invite_update(done, JoinInfo("webex", link, "created"), "en") is None


@settings(max_examples=150, deadline=timedelta(seconds=2))
@given(before=organiser_text, after=organiser_text, first=join_urls, second=join_urls,
       locale=st.sampled_from(["en", "de", "ja", "pt_BR", "zh_TW", "xx"]))
def test_invite_update_is_a_fixpoint_and_never_duplicates(
        before: str, after: str, first: str, second: str, locale: str) -> None:
    import dataclasses

    from hybrid_calendar.join_info import MARKER_KEY, plan_invite_update
    from hybrid_calendar.join_info.render import BEGIN_MARKER, END_MARKER

    evt = event(before, "@webex")
    update = plan_invite_update(evt, JoinInfo("webex", first, "created"), locale)
    assert update is not None and update.description.startswith(before)
    done = dataclasses.replace(evt, location=update.location,
                               description=update.description + after,
                               private_properties={MARKER_KEY: update.marker})
    again = plan_invite_update(done, JoinInfo("webex", first, "created"), locale)
    assert again is None
    moved = plan_invite_update(done, JoinInfo("webex", second, "created"), locale)
    if first == second:
        assert moved is None
    else:
        assert moved is not None
        assert moved.description.count(BEGIN_MARKER) == 1
        assert moved.description.count(END_MARKER) == 1
        assert moved.description.startswith(before) and moved.description.endswith(after)
