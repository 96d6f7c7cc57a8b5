"""Scheduling keywords in Location."""

from __future__ import annotations

import pytest

from hybrid_calendar.config import Config
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.join_info import KeywordConfig, find_keyword, keyword_config
from hybrid_calendar.join_info.keywords import replace_keyword


@pytest.mark.parametrize(("location", "keyword", "action", "modifier", "raw"), [
    ("@webex", "webex", "personal_room", None, "@webex"),
    ("@WEBEX", "webex", "personal_room", None, "@WEBEX"),
    ("@meet", "meet", "space", None, "@meet"),
    ("Room 1, @WebEx:onetime", "webex", "onetime", "onetime", "@WebEx:onetime"),
    ("@webex:myroom", "webex", "personal_room", "myroom", "@webex:myroom"),
    ("@webex:space", "webex", "space", "space", "@webex:space"),
    ("@meet:onetime", "meet", "onetime", "onetime", "@meet:onetime"),
    ("@meet:myroom; Building 2", "meet", "personal_room", "myroom", "@meet:myroom"),
    ("(@webex)", "webex", "personal_room", None, "@webex"),
    ("Berlin office / @webex.", "webex", "personal_room", None, "@webex"),
    ("@meet @webex:onetime", "meet", "space", None, "@meet"),
    ("x @webex:onetime then @meet", "webex", "onetime", "onetime", "@webex:onetime"),
    ("@zoom @webex", "webex", "personal_room", None, "@webex"),
    ("@webex:unknown", "webex", "personal_room", "unknown", "@webex:unknown"),
])
def test_keyword_found(location: str, keyword: str, action: str, modifier: str | None,
                       raw: str) -> None:
    request = find_keyword(location)
    assert request is not None
    assert (request.keyword, request.action, request.modifier, request.raw) == (
        keyword, action, modifier, raw)


@pytest.mark.parametrize("location", [
    "", "Room 101", "jo@webex.com", "mail jo@webex.com please", "@webex.com", "@webexteam",
    "@meeting", "user@meet", "see @web", "@webex_x", "a+@webex", "@webex-team",
])
def test_no_keyword(location: str) -> None:
    assert find_keyword(location) is None


def test_configured_keywords_per_organisation() -> None:
    config = KeywordConfig.parse(["webex=onetime", "@Meet=Google Meet", "vc=personal_room"])
    assert config.actions == {"webex": "onetime", "meet": "google_meet", "vc": "personal_room"}
    request = find_keyword("@VC", config)
    assert request is not None and (request.keyword, request.action) == ("vc", "personal_room")
    assert find_keyword("@zoom", config) is None


@pytest.mark.parametrize("entry", ["webex", "=space", "webex=teleport", "we bex=space"])
def test_invalid_keyword_config(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"join_info\.keywords") as caught:
        KeywordConfig.parse([entry])
    assert caught.value.key == "join_info.keywords"


def test_keyword_config_org_overrides_gateway() -> None:
    config = Config(values={"join_info": {"keywords": ["webex=onetime"]}})
    assert keyword_config(config).actions == {"webex": "onetime"}
    org = keyword_config(config, {"keywords": {"webex": "space"}})
    assert org.actions == {"webex": "space"}
    assert keyword_config(config, {"keywords": ["meet=google_meet"]}).actions == {
        "meet": "google_meet"}
    assert keyword_config(Config(values={})).actions == {"webex": "personal_room",
                                                         "meet": "space"}


def test_replace_keyword_keeps_the_rest() -> None:
    request = find_keyword("Room 1 / @Webex:onetime / floor 2")
    assert request is not None
    assert replace_keyword("Room 1 / @Webex:onetime / floor 2", request, "https://x/j") == \
        "Room 1 / https://x/j / floor 2"
