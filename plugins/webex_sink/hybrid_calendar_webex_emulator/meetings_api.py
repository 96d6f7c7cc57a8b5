"""``/v1/meetings`` and ``/v1/meetingPreferences/personalMeetingRoom``.

Scopes: ``meeting:schedules_read|write`` act for the caller, ``meeting:admin_schedule_*``
also for anyone named by ``hostEmail`` (developer.webex.com Meetings API Scopes).
``hostEmail`` from a token without admin scopes is ignored (Webex: "only used if the user or
application calling the API has the admin-level scopes"), or refused with 403 when the
``host_email_without_admin`` setting says ``forbid``. Lists default to the series
(``meetingType=meetingSeries``); ``meetingType=scheduledMeeting`` (or ``meetingSeriesId``)
lists scheduled meetings, each with id ``<seriesId>_<start UTC>``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator import instances
from hybrid_calendar_webex_emulator import meetings_model as model
from hybrid_calendar_webex_emulator.dispatch import Call, Route, route
from hybrid_calendar_webex_emulator.errors import bad_request, forbidden, not_found
from hybrid_calendar_webex_emulator.paging import page
from hybrid_calendar_webex_emulator.rooms import members
from hybrid_calendar_webex_emulator.timeutil import local, parse, zone
from hybrid_calendar_webex_emulator.webhooks import fire

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

READ = ("meeting:schedules_read", "meeting:admin_schedule_read")
WRITE = ("meeting:schedules_write", "meeting:admin_schedule_write")
ADMIN_READ = ("meeting:admin_schedule_read", "meeting:admin_schedule_write")
ADMIN_WRITE = ("meeting:admin_schedule_write",)


def host_for(call: Call, email: str | None, admin_scopes: tuple[str, ...]) -> dict[str, Any]:
    """The person the call acts for (``hostEmail``/``userEmail`` honoured for admins)."""
    own = call.state.people[call.grant.person_id]
    if email is None or email.lower() in own["emails"]:
        return own
    if not call.has_scope(*admin_scopes):
        if call.state.settings.host_email_without_admin == "forbid":
            raise forbidden("hostEmail requires admin-level scopes.")
        return own
    person = call.state.person_by_email(email)
    if person is None or person["type"] != "person":
        raise not_found(f"No user found with email {email}.")
    return person


def _check_room(call: Call, room_id: str) -> None:
    """Webex: ``roomId`` needs ``spark:all`` and the caller's membership of the space.

    :raises ApiError: 403 otherwise.
    """
    if not call.has_scope("spark:all"):
        raise forbidden("The spark:all scope is required when roomId is specified.")
    if call.grant.person_id not in members(call.state, room_id):
        raise forbidden("The caller is not a member of the space roomId names.")


def check_site(call: Call, site: object) -> None:
    """``siteUrl`` must be the organisation's site when given.

    :raises ApiError: 400 otherwise.
    """
    if site is not None and str(site).lower() != call.state.settings.site:
        raise bad_request(f"Invalid siteUrl: {site}.")


def _public(meeting: dict[str, Any], now: datetime, state: WebexState) -> dict[str, Any]:
    shown = {k: v for k, v in meeting.items() if not k.startswith("_")}
    shown["state"] = ("inProgress" if instances.running_instance(state, meeting["id"])
                      else model.series_state(meeting, now))
    return shown


def fire_meeting_event(state: WebexState, meeting: dict[str, Any], event: str,
                       actor_id: str, scheduled_id: str | None = None) -> int:
    """Fire a ``meetings`` webhook event (``created``, ``updated``, ``deleted``,
    ``started``, ``ended``) to the host's and the organisation's webhooks (about one
    scheduled meeting when ``scheduled_id`` is given)."""
    data = {"id": scheduled_id or meeting["id"], "meetingSeriesId": meeting["id"],
            "meetingType": "scheduledMeeting" if scheduled_id else "meetingSeries",
            "scheduledType": meeting["scheduledType"],
            "hostUserId": meeting["hostUserId"], "hostEmail": meeting["hostEmail"],
            "orgId": state.org_id}
    return fire(state, "meetings", event, data, actor_id, {meeting["hostUserId"]},
                org_wide=True)


def _event(call: Call, meeting: dict[str, Any], event: str) -> None:
    fire_meeting_event(call.state, meeting, event, call.grant.person_id)


def _record_emails(call: Call, meeting: dict[str, Any], kind: str, send: bool) -> None:
    if send:
        for invitee in meeting.get("_invitees", []):
            call.state.sent_emails.append({"meetingId": meeting["id"], "kind": kind,
                                           "to": str(invitee["email"]).lower()})


def create(call: Call) -> dict[str, Any]:
    """``POST /meetings``."""
    body = call.json_body()
    check_site(call, body.get("siteUrl"))
    host = host_for(call, body.get("hostEmail"), ADMIN_WRITE)
    now = call.state.clock.now()
    call.state.create_limits.charge(call.grant.person_id, host["id"],
                                    call.has_scope(*ADMIN_WRITE), now)
    if body.get("adhoc"):
        raise bad_request("Ad-hoc space meetings are not emulated.")
    if body.get("roomId"):
        _check_room(call, str(body["roomId"]))
    start, end = model.validate(body, now)
    if body.get("scheduledType") == "personalRoomMeeting" and "_pmr" not in host:
        raise bad_request("The host has no Personal Room.")
    meeting = model.build(call.state, body, host, start, end)
    call.state.meetings[meeting["id"]] = meeting
    _record_emails(call, meeting, "invitation", body.get("sendEmail", True) is not False)
    _event(call, meeting, "created")
    return _public(meeting, now, call.state)


def find_meeting(call: Call, admin_scopes: tuple[str, ...],
                 ) -> tuple[dict[str, Any], datetime | None]:
    """The series and, for a scheduled meeting id, its start.

    :raises ApiError: 404; 400 for a meeting instance when ``admin_scopes`` are the write
        scopes (update and delete do not apply to instances).
    """
    meeting_id = call.path_params["meetingId"]
    if "_I_" in meeting_id and admin_scopes == ADMIN_WRITE:
        raise bad_request("Update and delete do not apply to meeting instances.")
    series_id, _, stamp = meeting_id.partition("_")
    meeting = call.state.meetings.get(series_id)
    if meeting is None:
        raise not_found()
    host_email = call.param("hostEmail")
    if host_email is None and call.request.method in ("PUT", "PATCH"):
        host_email = call.json_body().get("hostEmail")
    acting = host_for(call, host_email, admin_scopes)
    lenient = (not call.state.settings.admin_needs_host_email
               and call.has_scope(*admin_scopes))
    if meeting["hostUserId"] != acting["id"] and not lenient:
        # Webex looks meetings up for the caller, or for ``hostEmail`` (admin scopes)
        raise not_found()
    if not stamp:
        return meeting, None
    try:
        start = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as err:
        raise not_found() from err
    if not model.occurrence_starts(meeting, start, start + timedelta(seconds=1)) or \
            model.occurrence_id(series_id, start) != meeting_id:
        raise not_found()
    return meeting, start


def get(call: Call) -> dict[str, Any]:
    """``GET /meetings/{meetingId}`` (series or scheduled meeting)."""
    instance_id = call.path_params["meetingId"]
    if "_I_" in instance_id:
        call.path_params["meetingId"] = instance_id.partition("_")[0]
        find_meeting(call, ADMIN_READ)  # the same visibility as the series
        found = call.state.meeting_instances.get(instance_id)
        if found is None or not instances.visible(found, call.state.clock.now()):
            raise not_found()
        return instances.public(found)
    meeting, start = find_meeting(call, ADMIN_READ)
    now = call.state.clock.now()
    if start is None:
        return _public(meeting, now, call.state)
    return model.occurrence(meeting, start, now)


def _update_scheduled(call: Call, meeting: dict[str, Any], start: datetime,
                      merge: bool) -> dict[str, Any]:
    """Update one scheduled meeting of a series: it keeps its id, shows ``isModified``."""
    now = call.state.clock.now()
    current = model.occurrence(meeting, start, now)
    body = call.json_body()
    if body.get("recurrence"):
        raise bad_request("A scheduled meeting of a series cannot take a recurrence.")
    base = current if merge else {"timezone": meeting["timezone"],
                                  "scheduledType": meeting["scheduledType"]}
    body = {**base, **body}
    new_start, new_end = model.validate(body, now, check_past=body["start"] != current["start"])
    tz = zone(meeting["timezone"])
    exception = {"title": body["title"], "start": local(new_start, tz),
                 "end": local(new_end, tz)}
    for optional in ("agenda", "password"):
        if body.get(optional) is not None:
            exception[optional] = body[optional]
    meeting.setdefault("_exceptions", {})[current["id"]] = exception
    fire_meeting_event(call.state, meeting, "updated", call.grant.person_id, current["id"])
    return model.occurrence(meeting, start, now)


def _update(call: Call, merge: bool) -> dict[str, Any]:
    meeting, start = find_meeting(call, ADMIN_WRITE)
    if start is not None:
        return _update_scheduled(call, meeting, start, merge)
    body = call.json_body()
    if merge:
        current = {k: v for k, v in meeting.items() if not k.startswith("_")}
        current["invitees"] = meeting.get("_invitees", [])
        body = {**current, **body}
    now = call.state.clock.now()
    changed_start = body.get("start") != meeting["start"]
    new_start, new_end = model.validate(body, now, check_past=changed_start)
    host = call.state.people[meeting["hostUserId"]]
    if body.get("scheduledType", "meeting") != meeting["scheduledType"]:
        raise bad_request("scheduledType cannot be changed.")
    timing = ("start", "end", "recurrence")
    if any(body.get(k) != meeting.get(k) for k in timing) and meeting.get("_exceptions"):
        # Webex: changing start, end or recurrence cancels the exceptional scheduled meetings
        model.cancel(meeting, list(meeting.pop("_exceptions")))
    updated = model.build(call.state, body, host, new_start, new_end, existing=meeting)
    call.state.meetings[meeting["id"]] = updated
    _record_emails(call, updated, "update", body.get("sendEmail", True) is not False)
    _event(call, updated, "updated")
    return _public(updated, now, call.state)


def put(call: Call) -> dict[str, Any]:
    """``PUT /meetings/{meetingId}``: the whole meeting (title, start, end required)."""
    return _update(call, merge=False)


def patch(call: Call) -> dict[str, Any]:
    """``PATCH /meetings/{meetingId}``: only the fields given."""
    return _update(call, merge=True)


def delete(call: Call) -> None:
    """``DELETE /meetings/{meetingId}``: 204 (a scheduled meeting id cancels that one)."""
    meeting, start = find_meeting(call, ADMIN_WRITE)
    if start is None:
        del call.state.meetings[meeting["id"]]
    else:
        model.cancel(meeting, [model.occurrence_id(meeting["id"], start)])
    _record_emails(call, meeting, "cancellation", call.bool_param("sendEmail") is not False)
    _event(call, meeting, "deleted")


def list_meetings(call: Call) -> Any:
    """``GET /meetings`` with Webex's filters."""
    state = call.state
    now = state.clock.now()
    check_site(call, call.param("siteUrl"))
    host = host_for(call, call.param("hostEmail"), ADMIN_READ)
    exclusive = [n for n in ("meetingNumber", "webLink", "roomId") if call.param(n)]
    if len(exclusive) > 1:
        raise bad_request("meetingNumber, webLink and roomId are mutually exclusive.")
    mine = [m for m in state.meetings.values() if m["hostUserId"] == host["id"]]
    if exclusive:
        name = exclusive[0]
        return page(call, [_public(m, now, state) for m in mine if m.get(name) == call.param(name)],
                    10, 100)
    # Webex: a missing ``from`` is ``to`` minus 7 days, else now; a missing ``to`` is
    # ``from`` plus 7 days
    window = timedelta(days=state.settings.meetings_default_window_days)
    end_given = parse(call.param("to"), "to") if call.param("to") else None
    start = (parse(call.param("from"), "from") if call.param("from")
             else end_given - window if end_given else now)
    end = end_given or start + window
    if end < start:
        raise bad_request("to cannot be before from.")
    series_id = call.param("meetingSeriesId")
    kind = call.param("meetingType") or ("scheduledMeeting" if series_id else "meetingSeries")
    if kind not in ("meetingSeries", "scheduledMeeting", "meeting"):
        raise bad_request(f"Invalid meetingType: {kind}.")
    tag = call.param("integrationTag")
    candidates = [m for m in mine
                  if (series_id is None or m["id"] == series_id)
                  and (tag is None or tag in m.get("integrationTags", []))
                  and call.param("scheduledType") in (None, m["scheduledType"])]
    items: list[dict[str, Any]] = []
    for meeting in candidates:
        if kind == "meetingSeries" and model.occurrence_starts(meeting, start, end):
            items.append(_public(meeting, now, state))
        elif kind == "scheduledMeeting":
            items.extend(model.scheduled_meetings(meeting, start, end, now))
    if kind == "meeting":
        series = {m["id"] for m in candidates}
        items = [i for i in instances.listed(state, host["id"], start, end)
                 if i["meetingSeriesId"] in series]
    wanted_state = call.param("state")
    modified = call.bool_param("isModified")
    items = [i for i in items if wanted_state in (None, i["state"])
             and modified in (None, i.get("isModified"))]
    items.sort(key=lambda i: (parse(i["start"], "start"), i["id"]))
    return page(call, items, 10, 100)


ROUTES: list[Route] = [
    route("POST", "/v1/meetings", WRITE, create),
    route("GET", "/v1/meetings", READ, list_meetings),
    route("GET", "/v1/meetings/{meetingId}", READ, get),
    route("PUT", "/v1/meetings/{meetingId}", WRITE, put),
    route("PATCH", "/v1/meetings/{meetingId}", WRITE, patch),
    route("DELETE", "/v1/meetings/{meetingId}", WRITE, delete),
]
