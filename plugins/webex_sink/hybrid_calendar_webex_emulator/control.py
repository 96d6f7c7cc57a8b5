"""Emulator-only controls, outside ``/v1``: none of this is a Webex API.

A control document (``POST /_emulator/control``, ``--faults``, :meth:`WebexState.control`)
is a JSON object; every key is optional:

``errors``
    list of ``{"status": 503, "count"?: 1, "rate"?: 0.1, "path"?: "regex",
    "method"?: "GET", "personId"?: "...", "retryAfter"?: 2}``.
``clear_errors``: true; ``latency_ms``: delay per request; ``drop_webhooks``: 0..1.
``rate_limit``: ``{"per_minute": 300 | null, "retry_after"?: seconds}``;
``reset_rate_limits``: true.
``expire_tokens``: true (every token) or a person's email/id.
``add_users``: emails; ``set_status``: ``{"email or id": "OutOfOffice", ...}``.
``device_connection``: ``{"deviceId": "disconnected", ...}``.
``seed``: ``{"meetings_per_user": N}``.
``meeting_event``: ``{"meetingId": "...", "event": "started" | "ended"}``: the host starts
or ends the meeting in Webex: a meeting instance runs or ends (see :mod:`.instances`) and
the ``meetings`` webhook fires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

KNOWN = frozenset({"errors", "clear_errors", "latency_ms", "drop_webhooks", "rate_limit",
                   "reset_rate_limits", "expire_tokens", "add_users", "set_status",
                   "device_connection", "seed", "meeting_event"})


def apply_control(state: WebexState, spec: dict[str, Any]) -> dict[str, Any]:
    """Apply a control document; returns what was done.

    :raises ValueError: naming unknown keys or bad values.
    """
    unknown = sorted(set(spec) - KNOWN)
    if unknown:
        raise ValueError(f"unknown control key(s): {', '.join(unknown)}")
    result: dict[str, Any] = {}
    with state.lock:
        try:
            state.faults.configure(spec)
        except (KeyError, TypeError) as err:
            raise ValueError(f"bad error rule: {err}") from err
        if "rate_limit" in spec:
            limit = spec["rate_limit"]
            if not isinstance(limit, dict):
                raise ValueError("rate_limit must be an object")
            per_minute = limit.get("per_minute")
            state.rate_limits.per_minute = None if per_minute is None else int(per_minute)
            retry = limit.get("retry_after")
            state.rate_limits.retry_after = None if retry is None else int(retry)
        if spec.get("reset_rate_limits"):
            state.rate_limits.reset()
        if spec.get("expire_tokens"):
            target = spec["expire_tokens"]
            result["expired_tokens"] = state.expire_tokens(
                target if isinstance(target, str) else None)
        for email in spec.get("add_users", []):
            state.add_person(str(email))
        try:
            for who, status in dict(spec.get("set_status", {})).items():
                state.set_status(who, status)
            for device_id, status in dict(spec.get("device_connection", {})).items():
                from hybrid_calendar_webex_emulator.workspaces import set_connection

                set_connection(state, device_id, status)
        except KeyError as err:
            raise ValueError(f"unknown person or device: {err}") from err
        if "seed" in spec:
            from hybrid_calendar_webex_emulator.seed import seed_meetings

            result["seeded_meetings"] = seed_meetings(
                state, int(spec["seed"].get("meetings_per_user", 0)))
        if "meeting_event" in spec:
            result["webhooks"] = _meeting_event(state, spec["meeting_event"])
    return result


def _meeting_event(state: WebexState, spec: object) -> int:
    from hybrid_calendar_webex_emulator.meetings_api import fire_meeting_event

    if not isinstance(spec, dict) or spec.get("event") not in ("started", "ended"):
        raise ValueError('meeting_event needs {"meetingId", "event": "started"|"ended"}')
    from hybrid_calendar_webex_emulator.instances import end_instance, start_instance

    meeting = state.meetings.get(str(spec.get("meetingId")))
    if meeting is None:
        raise ValueError("unknown meetingId")
    if spec["event"] == "started":
        start_instance(state, meeting)
    else:
        end_instance(state, meeting)
    return fire_meeting_event(state, meeting, str(spec["event"]), meeting["hostUserId"])
