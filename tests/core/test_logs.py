"""Logs never carry email addresses or credentials."""

from __future__ import annotations

import logging

import pytest

from hybrid_calendar.logs import RedactingFilter, redact


def test_redact_replaces_emails_and_bearer_tokens() -> None:
    text = redact("user o'neil@example.com sent Authorization: Bearer ya29.abc-DEF_1")
    assert "example.com" not in text and "ya29" not in text
    assert text.startswith("user <email:")
    assert redact("a@b.co and A@B.CO").count(redact("a@b.co")) == 2
    encoded = redact("GET /calendars/alice%40example.com/events")
    assert "alice" not in encoded and encoded.count("<email:") == 1
    assert redact("alice%40example.com") == redact("alice@example.com")


def test_filter_redacts_messages_args_extras_and_tracebacks(
        caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    caplog.handler.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("syncing %s", "carol@example.org", extra={"summary": "Secret plan"})
            try:
                raise ValueError("bad address dave@example.net")
            except ValueError:
                logger.exception("failed for %s", "erin@example.com")
    finally:
        caplog.handler.removeFilter(caplog.handler.filters[-1])
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for value in ("carol@", "dave@", "erin@", "Secret plan"):
        assert value not in text


def test_sync_and_page_tokens_are_redacted() -> None:
    """Issue 15 item 11: a request URL in a log line never carries a sync token."""
    line = ("HTTP Request: GET https://www.googleapis.com/calendar/v3/calendars/primary/events"
            "?syncToken=CPjkYWNrZXQ%3D&pageToken=EjQKMGhk&maxResults=250 \"HTTP/1.1 200 OK\"")
    redacted = redact(line)
    assert "CPjkYWNrZXQ" not in redacted and "EjQKMGhk" not in redacted
    assert "maxResults=250" in redacted and "syncToken=<redacted>" in redacted


def test_outbound_requests_are_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs each request at INFO; the gateway keeps those lines for DEBUG."""
    from hybrid_calendar.logs import install
    install("INFO")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    install("DEBUG")
    assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
    install("INFO")
