"""Single sign-on through OpenID Connect (Microsoft Entra ID, say), beside local accounts.

The identity provider says who the person is; this server still says who may come in: the
name it gives (`preferred_username`, else `email`) must be a local account made with
`batch-scheduler users add`, so signing in through the provider never opens the page to
everyone in the organisation. The authorization code flow, with PKCE (S256), `state` (tied
to the browser by a cookie) and `nonce`; the ID token's signature is checked against the
provider's published keys, and its issuer, audience, expiry and nonce against ours.
Authlib makes the tokens and the code challenge; joserfc (Authlib's JOSE library) checks the
ID token. The client secret comes from the environment only and is never shown or logged.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

SECRET_VARIABLE = "BATCH_SCHEDULER_SSO_CLIENT_SECRET"
PENDING_SECONDS = 600.0  # how long a sign-in may stay at the provider
MAX_PENDING = 1000  # sign-ins under way at once: the oldest is dropped past this
LEEWAY = 60  # seconds of clock difference allowed on the ID token's times


class SsoError(Exception):
    """Single sign-on did not prove who this is. The reason is for the log (no personal
    data); the person is only told to try again."""


@dataclass(frozen=True)
class SsoSettings:
    issuer: str  # e.g. https://login.microsoftonline.com/TENANT/v2.0
    client_id: str
    client_secret: str = field(repr=False)
    button: str | None  # the sign-in page's button, e.g. "Sign in with Microsoft"
    redirect_uri: str | None = None  # None: this server's own callback URL as requested


@dataclass(frozen=True)
class _Pending:
    nonce: str
    verifier: str
    redirect_uri: str
    next_url: str
    started: float


class SingleSignOn:
    """Starts sign-ins at the provider and finishes them when it sends the browser back."""

    def __init__(self, settings: SsoSettings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self._timeout = timeout
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None

    async def start(self, redirect_uri: str, next_url: str) -> tuple[str, str]:
        """The provider's URL to send the browser to, and the `state` to keep in a cookie."""
        metadata = await self._discovery()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        redirect_uri = self.settings.redirect_uri or redirect_uri
        with self._lock:
            now = time.monotonic()
            for key in [k for k, p in self._pending.items() if now - p.started > PENDING_SECONDS]:
                del self._pending[key]
            while len(self._pending) >= MAX_PENDING:  # dicts keep their order: oldest first
                del self._pending[next(iter(self._pending))]
            self._pending[state] = _Pending(nonce, verifier, redirect_uri, next_url, now)
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return f"{metadata['authorization_endpoint']}?{urlencode(query)}", state

    async def finish(self, state: str, code: str) -> tuple[str, str]:
        """The user name the provider vouches for, and where to go next."""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started > PENDING_SECONDS:
            raise SsoError("unknown or expired state")
        metadata = await self._discovery()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
        }
        auth = (self.settings.client_id, self.settings.client_secret)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                answer = await client.post(metadata["token_endpoint"], data=form, auth=auth)
                if answer.status_code != 200:
                    raise SsoError(f"token endpoint answered {answer.status_code}")
                id_token = answer.json().get("id_token")
                keys = (await client.get(metadata["jwks_uri"])).json()
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise SsoError(f"token exchange failed: {type(exc).__name__}") from None
        if not isinstance(id_token, str):
            raise SsoError("no ID token")
        claims = self._checked_claims(id_token, keys, pending.nonce)
        name = claims.get("preferred_username") or claims.get("email")
        if not isinstance(name, str) or not name:
            raise SsoError("the ID token names no user")
        return name, pending.next_url

    def _checked_claims(self, id_token: str, keys: Any, nonce: str) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=LEEWAY,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SsoError(f"ID token refused: {type(exc).__name__}") from None
        return dict(token.claims)

    async def _discovery(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    answer = await client.get(url)
                answer.raise_for_status()
                metadata = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SsoError(f"discovery failed: {type(exc).__name__}") from None
            if metadata.get("issuer") != self.settings.issuer:
                raise SsoError("the provider names another issuer")
            self._metadata = metadata
        return self._metadata
