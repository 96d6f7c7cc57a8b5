"""``{"items": [...]}`` lists with RFC 5988 ``Link: <...>; rel="next"`` paging.

``max`` is clamped to the endpoint's maximum (developer.webex.com/docs/basics,
"Pagination"). The next link is absolute and repeats every query parameter of the request
(wxc-sdk sends parameters only on the first page) with an opaque ``cursor``.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import TYPE_CHECKING, Any

from hybrid_calendar_webex_emulator.dispatch import ApiResponse
from hybrid_calendar_webex_emulator.errors import bad_request

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.dispatch import Call


def page(call: Call, items: list[dict[str, Any]], default_max: int, limit: int,
         extra: dict[str, Any] | None = None) -> ApiResponse:
    """One page of ``items`` for ``call`` (``max``, ``cursor``) with a next link if more.

    :raises ApiError: 400 for a ``max`` or ``cursor`` that is not valid.
    """
    raw_max = call.param("max")
    try:
        size = default_max if raw_max is None else int(raw_max)
    except ValueError as err:
        raise bad_request("max must be a positive integer.") from err
    if size < 1:
        raise bad_request("max must be a positive integer.")
    size = min(size, limit)
    offset = _offset(call.param("cursor"))
    chunk = items[offset:offset + size]
    headers: dict[str, str] = {}
    if offset + size < len(items):
        params = [(k, v) for k, v in call.request.params if k not in ("cursor", "max")]
        params += [("max", str(size)), ("cursor", _cursor(offset + size))]
        url = (call.state.public_url + call.request.path + "?"
               + urllib.parse.urlencode(params))
        headers["Link"] = f'<{url}>; rel="next"'
    return ApiResponse.json(200, {**(extra or {}), "items": chunk}, headers)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        return max(0, int(text[2:]))
    except (ValueError, UnicodeDecodeError) as err:
        raise bad_request("Invalid cursor.") from err
