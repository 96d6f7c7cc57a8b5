"""Request building from google-api-python-client's bundled discovery documents.

The discovery documents (``calendar.v3.json``, ``gmail.v1.json``) ship inside
google-api-python-client and are read from the package, never fetched. Each method used
is compiled once into an :class:`ApiMethod` (HTTP verb, path template, typed parameters);
building a request is then a dictionary walk and a few ``quote`` calls. This is about ten
times cheaper than creating ``googleapiclient.http.HttpRequest`` objects per call and
several hundred times cheaper than re-deriving a resource (``service.events()``) per call;
the measurement is in ``docs/performance.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from googleapiclient.discovery_cache import get_static_doc

_TEMPLATE = re.compile(r"\{(\+?)([A-Za-z0-9_]+)\}")


class DiscoveryError(ValueError):
    """A request does not match its discovery method (unknown or missing parameter)."""


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter of a method."""

    name: str
    location: str
    """``path`` or ``query``."""
    type: str
    repeated: bool = False
    required: bool = False


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready to send: absolute URL without query, query pairs, optional body."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    body: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class ApiMethod:
    """A discovery method compiled once: ``calendar.events.list`` and friends."""

    id: str
    http_method: str
    path: str
    params: Mapping[str, Param]
    has_request: bool
    has_response: bool

    def prepare(self, base_url: str, body: Mapping[str, Any] | None = None,
                **arguments: Any) -> PreparedRequest:
        """Build the request for ``arguments`` (discovery parameter names, camelCase).

        ``None`` values are omitted; booleans become ``true``/``false``; repeated
        parameters take a list. ``alt=json`` is added to methods with a response body,
        as google-api-python-client does.

        :param base_url: the API base, e.g. ``https://www.googleapis.com/calendar/v3``.
        :raises DiscoveryError: an argument is unknown or a required one is missing.
        """
        path_values: dict[str, str] = {}
        query: list[tuple[str, str]] = []
        for name, value in arguments.items():
            if value is None:
                continue
            param = self.params.get(name) or GLOBAL_PARAMS.get(name)
            if param is None:
                raise DiscoveryError(f"{self.id}: unknown parameter {name!r}")
            if param.location == "path":
                path_values[name] = _text(value)
            elif param.repeated and isinstance(value, list | tuple):
                query.extend((name, _text(item)) for item in value)
            else:
                query.append((name, _text(value)))
        for name, param in self.params.items():
            if param.required and name not in path_values and not any(
                    key == name for key, _ in query):
                raise DiscoveryError(f"{self.id}: missing required parameter {name!r}")
        if self.has_request and body is None:
            raise DiscoveryError(f"{self.id}: a request body is required")
        if self.has_response:
            query.append(("alt", "json"))

        def expand(match: re.Match[str]) -> str:
            safe = "/:@!$&'()*+,;=" if match.group(1) else ""
            return quote(path_values[match.group(2)], safe=safe)

        url = base_url.rstrip("/") + "/" + _TEMPLATE.sub(expand, self.path)
        return PreparedRequest(self.http_method, url, tuple(query), body)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache
def load_document(api: str, version: str) -> dict[str, Any]:
    """Return the bundled discovery document of ``api`` ``version`` (parsed once)."""
    text = get_static_doc(api, version)
    if text is None:
        raise DiscoveryError(f"no bundled discovery document for {api} {version}")
    document: dict[str, Any] = json.loads(text)
    return document


def _compile(method: Mapping[str, Any]) -> ApiMethod:
    params = {
        name: Param(name, spec["location"], spec.get("type", "string"),
                    bool(spec.get("repeated")), bool(spec.get("required")))
        for name, spec in method.get("parameters", {}).items()
    }
    return ApiMethod(method["id"], method["httpMethod"], method["path"], params,
                     "request" in method, "response" in method)


@cache
def method(api: str, version: str, dotted: str) -> ApiMethod:
    """Compile one method once, e.g. ``method("calendar", "v3", "events.list")``."""
    document = load_document(api, version)
    node: Mapping[str, Any] = document
    *resources, name = dotted.split(".")
    try:
        for resource in resources:
            node = node["resources"][resource]
        return _compile(node["methods"][name])
    except KeyError:
        raise DiscoveryError(f"{api} {version} has no method {dotted!r}") from None


GLOBAL_PARAMS: Mapping[str, Param] = {
    name: Param(name, "query", spec.get("type", "string"))
    for name, spec in load_document("calendar", "v3")["parameters"].items()
    if name in {"fields", "quotaUser", "prettyPrint"}
}
"""The standard query parameters the gateway may send on any method."""


class Calendar:
    """The Calendar v3 methods the gateway calls."""

    events_list = method("calendar", "v3", "events.list")
    events_get = method("calendar", "v3", "events.get")
    events_patch = method("calendar", "v3", "events.patch")
    events_update = method("calendar", "v3", "events.update")
    events_watch = method("calendar", "v3", "events.watch")
    channels_stop = method("calendar", "v3", "channels.stop")
    settings_get = method("calendar", "v3", "settings.get")
    settings_list = method("calendar", "v3", "settings.list")


class Gmail:
    """The Gmail v1 methods the gateway calls."""

    get_vacation = method("gmail", "v1", "users.settings.getVacation")
