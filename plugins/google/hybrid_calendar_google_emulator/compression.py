"""Response compression as Google's front end does it.

Google's performance guide: "In order to receive a gzip-encoded response you must do two
things: Set an ``Accept-Encoding`` header, and modify your user agent to contain the string
``gzip``." google-api-python-client (``User-Agent: ... (gzip)``, ``accept-encoding: gzip,
deflate``) and aiogoogle (``Aiogoogle Aiohttp (gzip)``) both ask, so their decoders get
exercised; a plain httpx or aiohttp client (no ``gzip`` in its user agent) gets identity.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping


def wants_gzip(headers: Mapping[str, str]) -> bool:
    """Whether request ``headers`` (lower-case names) ask for a gzip response."""
    if "gzip" not in headers.get("user-agent", ""):
        return False
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() != "gzip":
            continue
        quality = params.replace(" ", "").lower()
        return not (quality.startswith("q=") and _as_float(quality[2:]) == 0.0)
    return False


def _as_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def encode(body: bytes, headers: dict[str, str], request_headers: Mapping[str, str],
           level: int = 1) -> bytes:
    """``body``, gzipped when the request asked for it (``headers`` updated to match).

    Empty bodies (204, 304) stay empty; ``Vary: Accept-Encoding`` is always set.
    """
    headers["vary"] = "Accept-Encoding"
    if not body or not wants_gzip(request_headers) or "content-encoding" in headers:
        return body
    headers["content-encoding"] = "gzip"
    return gzip.compress(body, compresslevel=level, mtime=0)
