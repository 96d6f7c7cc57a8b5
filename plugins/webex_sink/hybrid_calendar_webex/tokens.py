"""Access tokens of the organisation's Webex identity: a Service App or an admin token.

* **Service App**: the first token pair comes from
  ``POST /applications/{service_app_id}/token`` (``clientId``, ``clientSecret``,
  ``targetOrgId``) with a full administrator's ``applications_token``; from then on the
  pair is refreshed with ``POST /access_token`` (``grant_type=refresh_token``) and the
  app's client id and secret.
* **Integration token**: ``access_token`` as configured; with a ``refresh_token`` and the
  client id and secret it is refreshed the same way.

A token pair is kept in the store as the organisation secret :data:`ORG_SECRET_NAME`
(envelope-encrypted by the gateway's cipher with a KMS-wrapped key), so a restart does not
fetch a new one. It is refreshed ``token_refresh_margin_seconds`` before it expires; one
refresh at a time per organisation (single flight: concurrent callers wait for it and use
its result). The scopes Webex granted (``scope`` of the token answer) are kept for the
start-up check (:mod:`.readiness`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from hybrid_calendar.config import Secret
from hybrid_calendar.errors import RateLimitError, TransientError
from hybrid_calendar_webex.client import retry_after
from hybrid_calendar_webex.errors import WebexAuthError

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar_webex.budget import RateBudget

ORG_SECRET_NAME = "webex_tokens"
"""Organisation secret holding the current token pair (JSON, encrypted at rest)."""

EXPIRED = "1970-01-01T00:00:00+00:00"


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, when it expires, and how to get the next one."""

    access_token: str
    expires_at: str | None = None
    """ISO time the access token expires; ``None`` when unknown (a static token)."""
    refresh_token: str | None = None
    scopes: tuple[str, ...] | None = None
    """Scopes Webex granted, when it said (``None``: unknown)."""

    def expires(self) -> datetime | None:
        """:attr:`expires_at` as a datetime."""
        return datetime.fromisoformat(self.expires_at) if self.expires_at else None


def _secret(value: object) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value or "")


class OrgTokens:
    """The access token of one organisation, fetched, stored and refreshed on demand.

    :param gateway: for the store (encrypted org secret), clock and HTTP client.
    :param org_id: the gateway's organisation id.
    :param settings: the ``[webex]`` section.
    :param budget: the organisation's Webex rate budget (token calls take from it too).
    """

    def __init__(self, gateway: Gateway, org_id: str, settings: dict[str, Any],
                 budget: RateBudget) -> None:
        self._gateway = gateway
        self._org_id = org_id
        self._settings = settings
        self._budget = budget
        self._pair: TokenPair | None = None
        self._loaded = False
        self._lock = asyncio.Lock()
        self.refreshes = 0
        """Token answers obtained from Webex (fetches and refreshes)."""

    @property
    def base_url(self) -> str:
        """The Webex API base URL."""
        return str(self._settings["api_base_url"]).rstrip("/")

    @property
    def mode(self) -> str:
        """``service_app``, ``integration`` or ``none`` (nothing configured)."""
        if self._settings.get("service_app_id"):
            return "service_app"
        if _secret(self._settings.get("access_token")):
            return "integration"
        return "none"

    async def scopes(self) -> tuple[str, ...] | None:
        """The scopes of the current token when Webex said which (after fetching one)."""
        await self.access_token()
        return self._pair.scopes if self._pair else None

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it is about to expire.

        :raises WebexAuthError: nothing configured, or Webex refused to issue a token.
        :raises TransientError: the token endpoint failed transiently.
        """
        pair = self._pair
        if pair is not None and self._fresh(pair):
            return pair.access_token
        async with self._lock:  # single flight: one refresh per organisation
            if not self._loaded:
                self._pair = await self._load()
                self._loaded = True
            pair = self._pair
            if pair is None or not self._fresh(pair):
                pair = self._pair = await self._obtain(pair)
                await self._save(pair)
            return pair.access_token

    async def invalidate(self, rejected: str) -> bool:
        """Forget ``rejected`` after a 401; ``True`` when a new token can be obtained."""
        async with self._lock:
            if self._pair is not None and self._pair.access_token == rejected:
                can_refresh = bool(self._pair.refresh_token) or self.mode == "service_app"
                if not can_refresh:
                    return False
                self._pair = replace(self._pair, expires_at=EXPIRED)
            return True

    def _fresh(self, pair: TokenPair) -> bool:
        expires = pair.expires()
        if expires is None:
            return True
        margin = timedelta(seconds=float(self._settings["token_refresh_margin_seconds"]))
        return self._gateway.clock.now() + margin < expires

    async def _load(self) -> TokenPair | None:
        stored = await self._gateway.store.get_org_secret(self._org_id, ORG_SECRET_NAME)
        if stored:
            try:
                data = json.loads(stored)
                return TokenPair(data["access_token"], data.get("expires_at"),
                                 data.get("refresh_token"),
                                 tuple(data["scopes"]) if data.get("scopes") else None)
            except (ValueError, KeyError, TypeError):
                pass  # unreadable: fetch a new pair
        configured = _secret(self._settings.get("access_token"))
        if self.mode == "integration":
            refresh = _secret(self._settings.get("refresh_token")) or None
            return TokenPair(configured, None, refresh)
        return None

    async def _save(self, pair: TokenPair) -> None:
        data = asdict(pair)
        data["scopes"] = list(pair.scopes) if pair.scopes else None
        await self._gateway.store.put_org_secret(self._org_id, ORG_SECRET_NAME,
                                                 json.dumps(data))

    async def _obtain(self, previous: TokenPair | None) -> TokenPair:
        client_id = str(self._settings.get("client_id") or "")
        secret = _secret(self._settings.get("client_secret"))
        if previous is not None and previous.refresh_token and client_id and secret:
            try:
                answer = await self._post("/access_token", data={
                    "grant_type": "refresh_token", "client_id": client_id,
                    "client_secret": secret, "refresh_token": previous.refresh_token})
            except WebexAuthError as refused:
                # the refresh token expired or was revoked (e.g. the app was de- and
                # re-authorised while the gateway was down): a Service App fetches a new
                # pair with the applications token rather than failing for good
                if self.mode != "service_app" or not \
                        _secret(self._settings.get("applications_token")):
                    raise
                answer = await self._service_app_pair(client_id, secret, refused)
        elif self.mode == "service_app":
            answer = await self._service_app_pair(client_id, secret)
        elif previous is not None:
            return previous  # a static token: used until Webex rejects it
        else:
            raise WebexAuthError("no Webex credentials configured: set webex.service_app_id "
                                 "(Service App) or webex.access_token")
        return self._pair_from(answer)

    async def _service_app_pair(self, client_id: str, secret: str,
                                refused: WebexAuthError | None = None) -> dict[str, Any]:
        """A new token pair from ``POST /applications/{id}/token`` (the admin's
        applications token); ``refused`` is why the refresh failed, if it did."""
        admin = _secret(self._settings.get("applications_token"))
        if not (admin and client_id and secret):
            raise WebexAuthError("the Service App has no token yet: set webex.client_id, "
                                 "webex.client_secret and webex.applications_token")
        body = {"clientId": client_id, "clientSecret": secret}
        if self._settings.get("target_org_id"):
            body["targetOrgId"] = str(self._settings["target_org_id"])
        try:
            return await self._post(
                f"/applications/{self._settings['service_app_id']}/token", json_body=body,
                bearer=admin)
        except WebexAuthError as err:
            if refused is None:
                raise
            raise WebexAuthError(f"{refused}; a new Service App token: {err}",
                                 status=err.status) from err

    def _pair_from(self, answer: dict[str, Any]) -> TokenPair:
        try:
            token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in") or 0)
        except (KeyError, TypeError, ValueError):
            raise WebexAuthError("the Webex token answer has no access_token") from None
        expires = (self._gateway.clock.now() + timedelta(seconds=lifetime)).isoformat() \
            if lifetime > 0 else None
        scope = answer.get("scope")
        scopes = tuple(str(scope).replace(",", " ").split()) if scope else None
        self.refreshes += 1
        return TokenPair(token, expires, answer.get("refresh_token"), scopes)

    async def _post(self, path: str, *, data: dict[str, str] | None = None,
                    json_body: dict[str, str] | None = None,
                    bearer: str | None = None) -> dict[str, Any]:
        await self._budget.acquire(self._org_id)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        try:
            response = await self._gateway.http_client().post(
                self.base_url + path, data=data, json=json_body, headers=headers)
        except httpx.HTTPError as err:
            raise TransientError(f"Webex token endpoint unreachable: {type(err).__name__}"
                                 ) from err
        if response.status_code in (423, 429):
            raise RateLimitError(f"Webex token endpoint answered {response.status_code}",
                                 status=response.status_code,
                                 retry_after=retry_after(response))
        if response.status_code >= 500:
            raise TransientError(f"Webex token endpoint answered {response.status_code}",
                                 status=response.status_code,
                                 retry_after=retry_after(response))
        if response.status_code >= 400:
            raise WebexAuthError(f"Webex refused to issue a token (HTTP "
                                 f"{response.status_code}): {_message(response)}",
                                 status=response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise WebexAuthError("the Webex token answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WebexAuthError("the Webex token answer is not a JSON object")
        return answer


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or "no message")
    except (ValueError, AttributeError):
        return "no message"
