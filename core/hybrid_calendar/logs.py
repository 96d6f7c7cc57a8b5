"""Logging that never carries personal data, and request ids.

:class:`RedactingFilter` rewrites every record before it is emitted: email addresses become
a short keyed digest (``<email:3f2a1c>``, stable within a process so log lines about the
same person can be correlated), and the values of keys in :data:`TO_REDACT` found in
``extra=`` data are replaced. Event titles and bodies must never be passed to a logger in
the first place; this filter is the safety net, tested with sentinel values.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import os
import re
from typing import Any

TO_REDACT = frozenset({"summary", "title", "description", "body", "location", "email",
                       "emails", "attendees", "organizer", "join_url", "token", "access_token",
                       "private_key", "assertion", "pin", "password", "passcode"})
"""Keys whose values are replaced in structured log data (``extra=``)."""

EMAIL = re.compile(r"[A-Za-z0-9._+'-]{1,64}(?:@|%40)[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
"""An email address, also percent-encoded as in URLs (``alice%40example.com``)."""
BEARER = re.compile(r"(?i)(bearer\s+|access_token=|assertion=|synctoken=|pagetoken=|"
                    r"sync_token=|nextsynctoken\W{1,4}|nextpagetoken\W{1,4})[A-Za-z0-9._~+/=%-]+")
"""Credentials and sync cursors: a sync token lets its holder read the calendar's changes."""
QUIET_LOGGERS = ("httpx", "httpcore")
"""Libraries that log every outbound request (URLs with tokens) at INFO: DEBUG only."""

_KEY = os.urandom(16)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                       default=None)


def pseudonym(value: str) -> str:
    """A short keyed digest of a value, stable for this process only."""
    return hmac.new(_KEY, value.casefold().encode(), hashlib.sha256).hexdigest()[:8]


def redact(text: str) -> str:
    """Replace email addresses and bearer credentials in ``text``."""
    text = EMAIL.sub(lambda m: f"<email:{pseudonym(m.group(0).replace('%40', '@'))}>", text)
    return BEARER.sub(lambda m: f"{m.group(1)}<redacted>", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: ("<redacted>" if k in TO_REDACT else _redact_value(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """Redacts every record's message, arguments, exception text and extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # formatters print the redacted exc_text instead
        for key in TO_REDACT & set(record.__dict__):
            record.__dict__[key] = "<redacted>"
        record.request_id = request_id.get() or "-"
        return True


def install(level: str = "INFO") -> None:
    """Configure the root logger with the redacting filter on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(handler)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG"
                                         else logging.WARNING)
