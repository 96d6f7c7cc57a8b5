"""The service table: its size, one positive example per service, help links rejected."""

from __future__ import annotations

import re

import pytest

from hybrid_calendar.join_info import detect
from hybrid_calendar.join_info.catalog import INDEX, PROVIDERS, SERVICES

from .helpers import event
from .invitations import INVITES
from .service_examples import EXAMPLES

SERVICE_COUNT = 100
"""Entries in the table (distinct services or link families); update on purpose."""
PROVIDER_COUNT = 82


def test_table_size() -> None:
    assert len(SERVICES) == SERVICE_COUNT
    assert len(PROVIDERS) == PROVIDER_COUNT
    assert PROVIDER_COUNT >= 70, "more distinct services than MeetingBar's 69"


def test_keys_unique_and_provider_ids_lower_case() -> None:
    keys = [service.key for service in SERVICES]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-z0-9]+", provider) for provider in PROVIDERS)


def test_required_provider_ids_present() -> None:
    required = {"webex", "zoom", "teams", "meet", "gotomeeting", "bluejeans", "chime", "jitsi",
                "whereby", "skype", "ringcentral", "lifesize", "slack", "discord", "zoho",
                "facetime", "8x8", "gather", "dialpad", "tencent", "lark", "livestorm", "sip"}
    assert required <= PROVIDERS


def test_every_service_has_a_positive_example() -> None:
    covered = {key for key, _ in EXAMPLES} | {invite.service for invite in INVITES}
    assert covered == {service.key for service in SERVICES}


@pytest.mark.parametrize(("key", "url"), EXAMPLES, ids=[f"{k}:{u[:40]}" for k, u in EXAMPLES])
def test_example_is_classified_as_its_service(key: str, url: str) -> None:
    found = INDEX.classify(url)
    assert found is not None and found.service.key == key


@pytest.mark.parametrize(("key", "url"), EXAMPLES, ids=[f"{k}:{u[:40]}" for k, u in EXAMPLES])
def test_example_is_found_in_a_sentence(key: str, url: str) -> None:
    found = detect(event(f"Hi all,\nplease join here: {url}.\nThanks!"))
    assert found is not None
    assert found.provider == INDEX.by_key(key).provider
    assert found.url == url


NOT_JOIN_LINKS = (
    "https://zoom.us/download",
    "https://support.zoom.us/hc/en-us/articles/201362193",
    "https://zoom.us/zoomconference?m=abc",
    "https://us02web.zoom.us/u/kabc123",
    "https://zoom.us/test",
    "https://help.webex.com/en-us/article/WBX000029055",
    "https://www.webex.com/downloads.html",
    "https://acme.webex.com/acme/globalcallin.php?MTID=m123",
    "https://acme.webex.com/acme/ldr.php?RCID=abc",
    "https://acme.webex.com/",
    "https://aka.ms/JoinTeamsMeeting",
    "https://teams.microsoft.com/meetingOptions/?organizerId=abc&tenantId=def",
    "https://www.microsoft.com/microsoft-teams/download-app",
    "https://dialin.teams.microsoft.com/8551f4c1?id=123456789",
    "https://support.google.com/a/users/answer/9282720",
    "https://meet.google.com/new",
    "https://tel.meet/abc-defg-hij?pin=123",
    "https://support.goto.com/meeting",
    "https://meet.goto.com/install",
    "https://global.gotomeeting.com/install/987654321",
    "https://bluejeans.com/downloads",
    "https://support.bluejeans.com/s/article/abc",
    "https://aws.amazon.com/chime/",
    "https://whereby.com/information/tos",
    "https://www.youtube.com/@acme",
    "https://discord.com/download",
    "https://www.ringcentral.com/support.html",
    "https://meet.jit.si/static/dialInInfo.html?room=abc",
    "https://www.zoho.com/meeting/",
    "https://slack.com/help/articles/4402059015315",
    "https://facetime.apple.com/",
    "https://www.clickmeeting.com/pricing",
    "https://www.google.com/maps/place/Acme",
    "https://example.com/meet/abc",
    "https://www.daily.co/pricing",
    "https://www.webex.com/msteams?confid=1139224889&tenantkey=acme&domain=m.webex.com",
    "https://teams.microsoft.com/l/meeting/new?subject=x",
)


@pytest.mark.parametrize("url", NOT_JOIN_LINKS)
def test_help_download_and_marketing_links_are_not_join_links(url: str) -> None:
    assert INDEX.classify(url) is None
    assert detect(event(f"More: {url}")) is None
