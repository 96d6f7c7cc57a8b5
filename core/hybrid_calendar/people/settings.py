"""Configuration keys of the people channels (section ``[people]``)."""

from __future__ import annotations

from hybrid_calendar.config import SettingSpec

PEOPLE_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("people", "default_timezone", str, "UTC",
                help="IANA time zone for users whose calendar reported none."),
    SettingSpec("people", "token_days", float, 90.0, minimum=0.001,
                help="Default lifetime of a personal access token."),
    SettingSpec("people", "link_minutes", float, 60.0 * 24, minimum=0.1,
                help="Default lifetime of an unused sign-in link."),
    SettingSpec("people", "session_days", float, 30.0, minimum=0.001,
                help="Lifetime of the browser session a sign-in link opens."),
    SettingSpec("people", "outbox_retention_hours", float, 48.0, minimum=0.01,
                help="Stream events kept for clients that reconnect with Last-Event-ID."),
    SettingSpec("people", "stream_ping_seconds", float, 15.0, minimum=0.1,
                help="Keep-alive comment interval on idle event streams."),
    SettingSpec("people", "run_workers", bool, True,
                help="Purge the stream outbox past retention in this process."),
    SettingSpec("people", "webhook_timeout_seconds", float, 10.0, minimum=0.1,
                help="Time limit of one webhook request."),
    SettingSpec("people", "webhook_concurrency", int, 32, minimum=1,
                help="Webhook requests in flight at once."),
    SettingSpec("people", "webhook_allow_http", bool, False,
                help="Also accept http:// endpoints (labs and tests only; HTTPS otherwise)."),
)
"""Every ``[people]`` key."""
