"""The gateway's outbound HTTP: a lean HTTP/1.1 keep-alive pool under ``httpx.AsyncClient``.

* :mod:`.connection` — one connection as an asyncio protocol: framing of a response;
* :mod:`.pool` — connections per origin, limits, keep-alive expiry, TLS verification,
  the one resend when a server closed an idle connection;
* :mod:`.transport` — ``httpx.AsyncBaseTransport`` over the pool, responses decoding JSON
  with orjson;
* :mod:`.client` — ``outbound_client()``, the shared ``httpx.AsyncClient`` over the
  transport (no cookie jar, query parameters encoded before httpx parses the URL);
* :mod:`.errors` — the pool's exception tree (mapped to httpx's by the transport).
"""

from hybrid_calendar.outbound.pool import ConnectionPool, Timeouts
from hybrid_calendar.outbound.transport import JsonResponse, PooledTransport

__all__ = ["ConnectionPool", "JsonResponse", "PooledTransport", "Timeouts"]
