"""Emulator-only controls: fault injection, token expiry, quotas, seeding (``/emulator/control``).

A control document is a JSON object; every key is optional:

``errors`` / ``token_errors``
    list of ``{"status": 429, "reason"?: "rateLimitExceeded", "count"?: 3, "rate"?: 0.1,
    "user"?: "a@d", "path"?: "regex", "method"?: "GET", "retry_after"?: 30}`` for API calls
    / the token endpoint (``rate: 1`` without ``count``: every matching call, until cleared).
``clear_errors``: true; ``latency_ms``: added delay per HTTP request.
``drop_notifications`` / ``duplicate_notifications``: probability 0..1 per push message.
``expire_sync_tokens``: true (all calendars) or a user email; ``sync_token_ttl``: seconds.
``expire_access_tokens``: true or a user email; ``access_token_ttl``: seconds.
``quota``: ``{"project_rpm", "user_rpm", "status": 403|429}``; ``reset_quota``: true.
``add_users``: list of emails; ``add_aliases``: ``{"alias@d": "user@d", ...}`` (a user's
alternate addresses: invitations to them land on the user's calendar);
``revoke_delegation`` / ``restore_delegation`` / ``suspend_user`` / ``unsuspend_user``: an
email.
``seed``: ``{"users": [...], "events_per_user": M, "days"?: 30}``.
``user_settings``: ``{"user": email, "locale"?: "de", "timezone"?: "Europe/Berlin"}``: the
Calendar settings the gateway reads on activation.
``vacation``: ``{"user": email, "enableAutoReply": bool, "responseSubject"?, "startTime"?,
"endTime"? (epoch ms), ...}``: the Gmail vacation responder (as ``updateVacation``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_calendar_google_emulator.api_errors import ApiError

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState


def apply_control(state: EmulatorState, spec: dict[str, Any]) -> dict[str, Any]:
    """Apply a control document; returns what was done.

    :raises ValueError: naming unknown keys or bad values (nothing is applied then... except
        keys processed before the bad one).
    """
    known = {"errors", "token_errors", "clear_errors", "latency_ms", "drop_notifications",
             "duplicate_notifications", "expire_sync_tokens", "sync_token_ttl",
             "expire_access_tokens", "access_token_ttl", "quota", "reset_quota", "add_users",
             "add_aliases", "revoke_delegation", "restore_delegation", "suspend_user",
             "unsuspend_user", "seed", "user_settings", "vacation"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"unknown control key(s): {', '.join(unknown)}")
    result: dict[str, Any] = {}
    with state.lock:
        try:
            state.faults.configure(spec)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"bad error rule: {err}") from err
        if "drop_notifications" in spec:
            state.push.options.drop_rate = float(spec["drop_notifications"])
        if "duplicate_notifications" in spec:
            state.push.options.duplicate_rate = float(spec["duplicate_notifications"])
        if spec.get("expire_sync_tokens"):
            target = spec["expire_sync_tokens"]
            state.invalidate_sync_tokens(target if isinstance(target, str) else None)
        if "sync_token_ttl" in spec:
            ttl = spec["sync_token_ttl"]
            state.options.sync_token_ttl = None if ttl is None else float(ttl)
        if spec.get("expire_access_tokens"):
            target = spec["expire_access_tokens"]
            result["expired_access_tokens"] = state.expire_access_tokens(
                target if isinstance(target, str) else None)
        if "access_token_ttl" in spec:
            state.options.access_token_ttl = int(spec["access_token_ttl"])
        if "quota" in spec:
            quota = spec["quota"]
            state.quota.project_rpm = int(quota.get("project_rpm", state.quota.project_rpm))
            state.quota.user_rpm = int(quota.get("user_rpm", state.quota.user_rpm))
            state.quota.status = int(quota.get("status", state.quota.status))
        if spec.get("reset_quota"):
            state.quota.reset()
        for email in spec.get("add_users", []):
            state.add_user(email)
        try:
            for alias, email in dict(spec.get("add_aliases") or {}).items():
                state.add_alias(str(alias), str(email))
        except (TypeError, ValueError, ApiError) as err:
            raise ValueError(f"bad alias: {err}") from err
        if "revoke_delegation" in spec:
            state.revoke_delegation(spec["revoke_delegation"])
        if "restore_delegation" in spec:
            state.restore_delegation(spec["restore_delegation"])
        if "suspend_user" in spec:
            state.suspend_user(spec["suspend_user"])
        if "unsuspend_user" in spec:
            state.suspend_user(spec["unsuspend_user"], suspended=False)
        try:
            _user_controls(state, spec, result)
        except (KeyError, TypeError, ValueError, ApiError) as err:
            raise ValueError(f"bad user control: {err}") from err
        if "seed" in spec:
            seed = spec["seed"]
            result["seeded_events"] = state.bulk_seed(
                list(seed["users"]), int(seed["events_per_user"]),
                days=int(seed.get("days", 30)))
    return result


def _user_controls(state: EmulatorState, spec: dict[str, Any], result: dict[str, Any]
                   ) -> None:
    """``user_settings`` and ``vacation`` (unknown users and bad values raise)."""
    if "user_settings" in spec:
        wanted = dict(spec["user_settings"])
        email = str(wanted.pop("user"))
        state.user(email)  # ApiError 404 for an unknown user
        for name in ("locale", "timezone"):
            if name in wanted:
                state.set_setting(email, name, str(wanted.pop(name)))
        if wanted:
            raise ValueError(f"unknown user setting(s): {', '.join(sorted(wanted))}")
    if "vacation" in spec:
        vacation = dict(spec["vacation"])
        email = str(vacation.pop("user"))
        result["vacation"] = state.set_vacation(email, vacation)  # ApiError: bad value
