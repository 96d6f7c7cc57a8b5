"""The ``fields`` partial-response selector (``kind,items(id,start/dateTime),nextPageToken``).

Grammar (Google's "partial response" guide): a comma-separated list of selections; a
selection is a ``/``-separated path, optionally followed by ``(sub-selection)`` applying to
the object (or each object of the array) it names; ``*`` selects everything.
"""

from __future__ import annotations

from typing import Any

from hybrid_calendar_google_emulator.api_errors import ApiError

Selector = dict[str, "Selector | None"]
"""A parsed selection: field name -> sub-selection (``None``: the whole value)."""


SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})


def _invalid(name: str = "") -> ApiError:
    message = f"Invalid field selection {name}" if name else "Invalid field selection"
    return ApiError(400, "invalidParameter", message, location="fields",
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


def check_fields(selector: Selector, schema: dict[str, Any] | None,
                 schemas: dict[str, Any]) -> None:
    """Reject a selection naming a field the response schema does not have.

    Google checks ``fields`` against the method's response schema (names are
    case-sensitive): ``fields=pagetoken`` on events.list is 400 ``invalidParameter``
    "Invalid field selection pagetoken". Map-valued fields (``additionalProperties``, e.g.
    freeBusy ``calendars``) accept any key; a sub-selection of a scalar is invalid.

    :param schema: the method's response schema (``{"$ref": "Events"}``); ``None`` skips.
    :param schemas: the discovery document's ``schemas``.
    :raises ApiError: 400 ``invalidParameter`` naming the first unknown field.
    """
    if schema is None:
        return
    resolved = _resolve(schema, schemas)
    while resolved.get("type") == "array":
        resolved = _resolve(resolved.get("items", {}), schemas)
    properties: dict[str, Any] | None = resolved.get("properties")
    extra = resolved.get("additionalProperties")
    for name, sub in selector.items():
        if name == "*":
            continue
        if properties is not None and name in properties:
            child: dict[str, Any] | None = properties[name]
        elif extra is not None:
            child = extra
        elif properties is None and resolved.get("type") not in SCALAR_TYPES:
            child = None   # free-form object (``type: any``): anything goes
        else:
            raise _invalid(name)
        if sub is not None:
            check_fields(sub, child, schemas)


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 50:
        schema = schemas.get(schema["$ref"], {})
        seen += 1
    return schema


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
