"""The localized join block, replace-not-duplicate, and the marker fixpoint."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest

from hybrid_calendar.join_info import MARKER_KEY, is_processed, plan_invite_update
from hybrid_calendar.join_info.locales import TEXTS, normalize_locale
from hybrid_calendar.join_info.render import (
    BEGIN_MARKER,
    END_MARKER,
    looks_like_html,
    render_block,
    replace_block,
)
from hybrid_calendar.models import CalendarEvent, InviteUpdate, JoinInfo

from .helpers import event

JOIN = JoinInfo(provider="webex", url="https://acme.webex.com/meet/jdoe", source="created",
                dial="jdoe@acme.webex.com", meeting_id="123 456 789")
ORGANISER_TEXT = "Agenda:\n1. Budget\n2. Hiring\n\n-- Jane"


def _apply(evt: CalendarEvent, update: InviteUpdate) -> CalendarEvent:
    return dataclasses.replace(evt, location=update.location,
                               description=update.description,
                               private_properties={MARKER_KEY: update.marker})


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "en"), ("en_GB", "en"), ("de", "de"), ("fr", "fr"), ("es", "es"), ("es_419", "es"),
    ("it", "it"), ("pt_BR", "pt"), ("pt_PT", "pt"), ("nl", "nl"), ("ja", "ja"),
    ("zh_CN", "zh"), ("zh_TW", "zh_TW"), ("zh-HK", "zh_TW"), ("ko", "ko"), ("de-AT", "de"),
    ("iw", "en"), ("xx_YY", "en"), (None, "en"), ("", "en"),
])
def test_normalize_locale(code: str | None, expected: str) -> None:
    assert normalize_locale(code) == expected


@pytest.mark.parametrize("code", ["en", "de", "fr", "es", "it", "pt_BR", "nl", "ja", "zh_CN",
                                  "zh_TW", "ko"])
def test_block_is_in_the_organisers_language(code: str) -> None:
    block = render_block(JOIN, code)
    words = TEXTS[normalize_locale(code)]
    assert block.startswith(BEGIN_MARKER) and block.endswith(END_MARKER)
    assert words["header"] in block and words["video"] in block
    assert JOIN.url in block and "jdoe@acme.webex.com" in block  # type: ignore[operator]


def test_languages_differ() -> None:
    headers = {TEXTS[code]["header"] for code in TEXTS}
    assert len(headers) == len(TEXTS)


def test_plan_replaces_keyword_and_appends_block() -> None:
    evt = event(ORGANISER_TEXT, "Room 1 / @webex")
    update = plan_invite_update(evt, JOIN, "de")
    assert update is not None
    assert update.location == "Room 1 / https://acme.webex.com/meet/jdoe"
    assert update.description.startswith(ORGANISER_TEXT + "\n\n" + BEGIN_MARKER)
    assert "An der Besprechung teilnehmen" in update.description
    block = update.description[len(ORGANISER_TEXT) + 2:]
    assert update.marker == hashlib.sha256(block.encode()).hexdigest()
    assert update.locale == "de"


def test_plan_is_a_fixpoint() -> None:
    evt = event(ORGANISER_TEXT, "@webex")
    first = plan_invite_update(evt, JOIN, "fr")
    assert first is not None
    updated = _apply(evt, first)
    assert plan_invite_update(updated, JOIN, "fr") is None
    assert is_processed(updated)


def test_later_update_replaces_block_and_keeps_organiser_text() -> None:
    evt = event(ORGANISER_TEXT, "@webex")
    first = plan_invite_update(evt, JOIN, "en")
    assert first is not None
    edited = dataclasses.replace(
        _apply(evt, first),
        description="Intro line\n" + first.description + "\nPS: bring snacks")
    moved = dataclasses.replace(JOIN, url="https://acme.webex.com/meet/jane", dial=None)
    second = plan_invite_update(edited, moved, "en")
    assert second is not None
    assert second.description.count(BEGIN_MARKER) == 1
    assert second.description.count(END_MARKER) == 1
    assert second.description.startswith("Intro line\n" + ORGANISER_TEXT + "\n\n")
    assert second.description.endswith(END_MARKER + "\nPS: bring snacks")
    assert "meet/jane" in second.description and "meet/jdoe" not in second.description
    assert second.marker != first.marker


def test_html_description_gets_html_block() -> None:
    html_text = "<p>Agenda &amp; notes</p>"
    assert looks_like_html(html_text) and not looks_like_html("a < b > c")
    update = plan_invite_update(event(html_text, "@webex"), JOIN, "en")
    assert update is not None
    assert update.description.startswith(html_text + "<br><br>" + BEGIN_MARKER + "<br>")
    assert '<a href="https://acme.webex.com/meet/jdoe">' in update.description


def test_dangling_begin_marker_is_replaced_to_the_end() -> None:
    text = "Mine\n\n" + BEGIN_MARKER + "\nold stuff"
    assert replace_block(text, "NEW") == "Mine\n\nNEW"


def test_admin_header_and_footer_templates() -> None:
    block = render_block(JOIN, "en", templates={"header": "Acme video", "footer": ""})
    assert "Acme video" in block and TEXTS["en"]["footer"] not in block


def test_location_without_keyword_is_left_alone() -> None:
    update = plan_invite_update(event("", "Room 1"), JOIN, "en")
    assert update is not None and update.location == "Room 1"
    assert update.description.startswith(BEGIN_MARKER)


def test_editing_time_or_title_keeps_the_event_processed() -> None:
    evt = event("", "@webex")
    update = plan_invite_update(evt, JOIN, "en")
    assert update is not None
    done = _apply(evt, update)
    moved = dataclasses.replace(done, summary="Renamed",
                                start=datetime(2030, 1, 1, 10, tzinfo=UTC))
    assert is_processed(moved)
    assert not is_processed(evt)
