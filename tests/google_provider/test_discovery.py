"""Requests built from the bundled discovery documents match google-api-python-client's."""

from __future__ import annotations

import warnings

import httpx
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from hybrid_calendar_google.discovery import Calendar, DiscoveryError, Gmail, method

BASE = "http://127.0.0.1:8080/calendar/v3"


def _reference_uri(**params: object) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        service = build("calendar", "v3", static_discovery=True,
                        credentials=Credentials(token="x"),  # type: ignore[no-untyped-call]  # google-auth: no hints
                        client_options={"api_endpoint": BASE + "/"})
    return str(service.events().list(**params).uri)


def test_events_list_matches_googleapiclient() -> None:
    params = {"calendarId": "alice@example.com", "singleEvents": True,
              "timeMin": "2026-11-20T00:00:00Z", "timeMax": "2026-12-28T00:00:00Z",
              "maxResults": 2500, "privateExtendedProperty": ["a=b", "c=d"]}
    prepared = Calendar.events_list.prepare(BASE, body=None, **params)
    ours = httpx.URL(prepared.url, params=prepared.params)
    theirs = httpx.URL(_reference_uri(**params))
    wire_path = b"/calendar/v3/calendars/alice%40example.com/events"
    assert ours.raw_path.split(b"?")[0] == theirs.raw_path.split(b"?")[0] == wire_path
    assert sorted(ours.params.multi_items()) == sorted(theirs.params.multi_items())
    assert ("alt", "json") in prepared.params


def test_methods_without_response_send_no_alt() -> None:
    prepared = Calendar.channels_stop.prepare(BASE, body={"id": "c", "resourceId": "r"})
    assert prepared.method == "POST"
    assert prepared.url == BASE + "/channels/stop"
    assert prepared.params == ()


def test_gmail_paths_start_with_version() -> None:
    prepared = Gmail.get_vacation.prepare("https://gmail.googleapis.com/", userId="me")
    assert prepared.url == "https://gmail.googleapis.com/gmail/v1/users/me/settings/vacation"


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(DiscoveryError, match="unknown parameter 'calendarID'"):
        Calendar.events_list.prepare(BASE, calendarID="x")


def test_missing_required_parameter_is_refused() -> None:
    with pytest.raises(DiscoveryError, match="missing required parameter 'eventId'"):
        Calendar.events_get.prepare(BASE, calendarId="x")


def test_body_required_for_patch() -> None:
    with pytest.raises(DiscoveryError, match="request body is required"):
        Calendar.events_patch.prepare(BASE, calendarId="x", eventId="e")


def test_unknown_method() -> None:
    with pytest.raises(DiscoveryError, match=r"no method 'events\.nope'"):
        method("calendar", "v3", "events.nope")
