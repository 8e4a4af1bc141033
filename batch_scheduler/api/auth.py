"""Bearer tokens for the API: a static token, or OAuth2 client credentials with a cache.

The cache renews a token shortly before it expires, one renewal at a time: many concurrent
calls waiting for a token cause one token request, and if that request fails they all get
its failure instead of queueing up to repeat it. Nothing here logs or repeats a secret.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass

from batch_scheduler.api.classify import parse_retry_after
from batch_scheduler.api.wire import Answer, Headers, Wire, encoded_url
from batch_scheduler.config import ApiSettings, Secret
from batch_scheduler.errors import TokenUnavailable, WireError
from batch_scheduler.i18n import N_, _
from batch_scheduler.logs import SECRETS
from batch_scheduler.models import ResultKind

logger = logging.getLogger(__name__)

# For short token lifetimes renew at this fraction of the lifetime instead of `margin` before.
SHORT_LIFETIME_FRACTION = 0.8
GRANT = b"grant_type=client_credentials"

_REFUSED = N_(
    "The token endpoint refused the client id/secret (HTTP {status}): check "
    "BATCH_SCHEDULER_CLIENT_ID and BATCH_SCHEDULER_CLIENT_SECRET."
)


class StaticToken:
    """A token given in the settings: it cannot be renewed, so a 401 is final."""

    renewable = False

    def __init__(self, token: Secret) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token.reveal()

    async def renew(self, stale: str) -> str:
        raise TokenUnavailable(ResultKind.FATAL, _("A static token cannot be renewed."))


@dataclass
class _Cached:
    token: Secret
    renew_at: float | None  # clock time; None when the lifetime is unknown (renew on 401)


def renew_at(obtained: float, lifetime: float | None, margin: float) -> float | None:
    """When to renew a token obtained at `obtained` that lives `lifetime` seconds."""
    if lifetime is None:
        return None
    lead = min(margin, lifetime * (1 - SHORT_LIFETIME_FRACTION))
    return obtained + max(lifetime - lead, 0.0)


class ClientCredentials:
    """OAuth2 client credentials with a cached, renewed token.

    The token request goes over the client's wire with the client's `headers` (Accept,
    User-Agent...), the client id and secret in HTTP Basic authentication (RFC 6749 2.3.1).
    """

    renewable = True

    def __init__(
        self,
        settings: ApiSettings,
        wire: Wire,
        clock: Callable[[], float],
        headers: Headers = (),
    ) -> None:
        if not settings.client_id or settings.client_secret is None:
            raise ValueError("client credentials need client_id and client_secret")
        self._url = encoded_url(settings.token_url)
        self._client_id = settings.client_id
        self._secret = settings.client_secret
        self._margin = settings.token_renew_margin
        self._timeout = settings.timeout
        self._wire = wire
        self._headers = headers
        self._clock = clock
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()
        self._attempts = 0  # fetches finished, so waiters can tell one ended while they waited
        self._last_failure: TokenUnavailable | None = None

    def _fresh(self) -> str | None:
        cached = self._cached
        if cached is None:
            return None
        if cached.renew_at is not None and self._clock() >= cached.renew_at:
            return None
        return cached.token.reveal()

    async def token(self) -> str:
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        return await self._renew_once(lambda: self._fresh() is None)

    async def renew(self, stale: str) -> str:
        """Renew after a 401 with `stale`, unless another call has renewed it already."""
        return await self._renew_once(lambda: self._fresh() in (None, stale))

    async def _renew_once(self, needed: Callable[[], bool]) -> str:
        seen = self._attempts
        async with self._lock:
            failure = self._last_failure
            if self._attempts != seen and failure is not None:
                # the fetch we waited for failed: share its answer rather than queue up to repeat it
                raise TokenUnavailable(
                    failure.kind, failure.message, failure.status_code, failure.retry_after
                )
            current = self._fresh()
            if current is not None and not needed():
                return current
            return await self._fetch()

    async def _fetch(self) -> str:
        started = self._clock()
        self._last_failure = None
        try:
            self._cached = await self._request(started)
        except TokenUnavailable as failure:
            self._cached = None
            self._last_failure = failure
            raise
        finally:
            self._attempts += 1  # counted when finished, so those waiting see it
        logger.debug("obtained an access token")
        return self._cached.token.reveal()

    async def _request(self, started: float) -> _Cached:
        pair = f"{self._client_id}:{self._secret.reveal()}".encode()
        headers = [
            *self._headers,
            ("Authorization", "Basic " + base64.b64encode(pair).decode("ascii")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        try:
            response = await self._wire.exchange("POST", self._url, headers, GRANT, self._timeout)
        except WireError as exc:
            raise TokenUnavailable(
                ResultKind.RETRY_LATER, _("Token endpoint: {why}.").format(why=_(exc.words))
            ) from None
        return self._read(response, started)

    def _read(self, response: Answer, started: float) -> _Cached:
        status = response.status_code
        if status in (400, 401, 403):
            raise TokenUnavailable(ResultKind.FATAL, _(_REFUSED).format(status=status), status)
        if status == 429 or status >= 500:
            raise TokenUnavailable(
                ResultKind.RETRY_LATER,
                _("The token endpoint is unavailable (HTTP {status}); try again later.").format(
                    status=status
                ),
                status,
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if status != 200:
            raise TokenUnavailable(
                ResultKind.FATAL,
                _(
                    "The token endpoint answered HTTP {status}: check BATCH_SCHEDULER_TOKEN_URL."
                ).format(status=status),
                status,
            )
        return self._parse(response, started)

    def _parse(self, response: Answer, started: float) -> _Cached:
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = body.get("expires_in")
        except (ValueError, KeyError, TypeError, AttributeError):
            token, lifetime = None, None
        if not isinstance(token, str) or not token:
            raise TokenUnavailable(
                ResultKind.FATAL,
                _("The token endpoint gave no access token: check BATCH_SCHEDULER_TOKEN_URL."),
                response.status_code,
            )
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else None
        SECRETS.add(token)  # a secret from now on: no log line may show it (logs.py)
        return _Cached(Secret(token), renew_at(started, seconds, self._margin))
