"""A small OpenID Connect provider on loopback, for the single sign-on tests: discovery, the
authorization endpoint (it signs in `user` at once, as a provider would after its own
sign-in page), the token endpoint (client secret, PKCE S256) and its keys. Knobs make it
misbehave the ways a test needs: another audience, another nonce, an expired token, a key
that is not the published one."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET = "batch-scheduler", "a client secret for tests"


@dataclass
class Provider:
    user: str = "alice"  # who signs in at the provider
    audience: str = CLIENT_ID  # the ID token's `aud`
    wrong_nonce: bool = False
    expired: bool = False
    foreign_key: bool = False  # sign with a key that is not in the published set
    issuer: str = ""  # set when it starts
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {key: q.get(key, "") for key in
                            ("redirect_uri", "nonce", "code_challenge")}  # fmt: skip
        query = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{query}", 302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        asked = self.codes.pop(str(form.get("code")), None)
        basic = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        verifier = str(form.get("code_verifier") or "")
        if (
            asked is None
            or basic != f"Basic {expected}"
            or form.get("redirect_uri") != asked["redirect_uri"]
            or create_s256_code_challenge(verifier) != asked["code_challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": f"sub-{self.user}",
            "aud": self.audience,
            "iat": now,
            "exp": now - 3600 if self.expired else now + 600,
            "nonce": "another" if self.wrong_nonce else asked["nonce"],
            "preferred_username": self.user,
        }
        key = self.key
        if self.foreign_key:  # another key under the published key's id: the signature fails
            key = RSAKey.generate_key(2048, parameters={"kid": str(self.key.kid)})
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return JSONResponse({"access_token": "x", "token_type": "Bearer", "id_token": id_token})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))


@contextmanager
def running_provider(provider: Provider) -> Iterator[Provider]:
    """Serve `provider` on a free loopback port until the block ends."""
    config = uvicorn.Config(provider.app(), host="127.0.0.1", port=0, log_config=None,
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the provider did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    provider.issuer = f"http://127.0.0.1:{port}"
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
