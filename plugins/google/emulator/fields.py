"""The ``fields`` partial-response selector (``kind,items(id,start/dateTime),nextPageToken``).

Grammar (Google's "partial response" guide): a comma-separated list of selections; a
selection is a ``/``-separated path, optionally followed by ``(sub-selection)`` applying to
the object (or each object of the array) it names; ``*`` selects everything.
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar_google.emulator.errors import ApiError

Selector = dict[str, "Selector | None"]
"""A parsed selection: field name -> sub-selection (``None``: the whole value)."""


def _invalid() -> ApiError:
    return ApiError(400, "invalidParameter", "Invalid field selection", location="fields",
                    location_type="parameter")


def parse_fields(text: str) -> Selector:
    """Parse a ``fields`` expression.

    :raises ApiError: 400 ``invalidParameter`` for unbalanced or empty selections.
    """
    selector, pos = _parse_list(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise _invalid()
    return selector


def _merge(target: Selector, name: str, sub: Selector | None) -> None:
    if name in target:
        old = target[name]
        if old is None or sub is None:
            target[name] = None
        else:
            for key, value in sub.items():
                _merge(old, key, value)
    else:
        target[name] = sub


def _parse_list(text: str, pos: int) -> tuple[Selector, int]:
    result: Selector = {}
    while True:
        path: list[str] = []
        name = ""
        while pos < len(text) and text[pos] not in ",()":
            if text[pos] == "/":
                if not name:
                    raise _invalid()
                path.append(name)
                name = ""
            else:
                name += text[pos]
            pos += 1
        if not name:
            raise _invalid()
        path.append(name)
        sub: Selector | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise _invalid()
            pos += 1
        for part in reversed(path[1:]):
            sub = {part: sub}
        _merge(result, path[0], sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return result, pos


def apply_fields(value: Any, selector: Selector | None) -> Any:
    """``value`` reduced to ``selector`` (arrays apply it to each element)."""
    if selector is None or ("*" in selector and len(selector) == 1):
        return value
    if isinstance(value, list):
        return [apply_fields(item, selector) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selector:
        return {k: apply_fields(v, selector.get(k)) for k, v in value.items()}
    return {k: apply_fields(value[k], sub) for k, sub in selector.items() if k in value}
