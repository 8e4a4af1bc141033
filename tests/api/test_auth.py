"""The token cache: one renewal at a time, renewed before expiry, failures classified."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from batch_scheduler.api.auth import ClientCredentials, StaticToken, renew_at
from batch_scheduler.api.wire import HttpxWire
from batch_scheduler.config import ApiSettings, Secret
from batch_scheduler.errors import TokenUnavailable
from batch_scheduler.models import ResultKind

pytestmark = pytest.mark.anyio

TOKEN_URL = "http://127.0.0.1:9/oauth2/token"
SETTINGS = ApiSettings(
    base_url="http://127.0.0.1:9",
    client_id="the-client",
    client_secret=Secret("s3cr3t-value"),
    token_url=TOKEN_URL,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """A token endpoint that records its calls and issues tok-1, tok-2, ..."""

    def __init__(self, lifetime: int | None = 3600, status: int = 200) -> None:
        self.lifetime = lifetime
        self.status = status
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        await asyncio.sleep(0.01)  # let concurrent callers pile up behind the lock
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "invalid_client"})
        body: dict[str, object] = {"access_token": f"tok-{len(self.requests)}"}
        if self.lifetime is not None:
            body |= {"expires_in": self.lifetime, "token_type": "Bearer"}
        return httpx.Response(200, json=body)


def provider(
    handler: Callable[[httpx.Request], object], clock: Clock | None = None
) -> ClientCredentials:
    wire = HttpxWire(httpx.MockTransport(handler))  # type: ignore[arg-type]
    return ClientCredentials(SETTINGS, wire, clock or Clock())


def test_renewal_time() -> None:
    assert renew_at(0.0, 3600.0, 60.0) == 3540.0  # the margin, for normal lifetimes
    assert renew_at(0.0, 2.0, 60.0) == pytest.approx(1.6)  # 80% of a short lifetime
    assert renew_at(5.0, None, 60.0) is None  # unknown lifetime: renew on 401 only


async def test_token_request_uses_basic_auth_and_the_grant() -> None:
    server = TokenServer()
    assert await provider(server).token() == "tok-1"
    (request,) = server.requests
    assert request.method == "POST" and str(request.url) == TOKEN_URL
    expected = base64.b64encode(b"the-client:s3cr3t-value").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}


async def test_token_is_cached_until_shortly_before_expiry() -> None:
    server, clock = TokenServer(lifetime=3600), Clock()
    auth = provider(server, clock)
    assert await auth.token() == "tok-1"
    clock.now += 3539
    assert await auth.token() == "tok-1"
    clock.now += 1
    assert await auth.token() == "tok-2"
    assert len(server.requests) == 2


async def test_short_lived_token_is_renewed_at_80_percent() -> None:
    server, clock = TokenServer(lifetime=2), Clock()
    auth = provider(server, clock)
    await auth.token()
    clock.now += 1.5
    assert await auth.token() == "tok-1"
    clock.now += 0.2
    assert await auth.token() == "tok-2"


async def test_concurrent_callers_cause_one_token_request() -> None:
    server = TokenServer()
    auth = provider(server)
    tokens = await asyncio.gather(*(auth.token() for _ in range(64)))
    assert set(tokens) == {"tok-1"}
    assert len(server.requests) == 1


async def test_concurrent_callers_share_one_failure() -> None:
    server = TokenServer(status=503)
    auth = provider(server)
    results = await asyncio.gather(*(auth.token() for _ in range(64)), return_exceptions=True)
    assert all(isinstance(r, TokenUnavailable) for r in results)
    assert {r.kind for r in results if isinstance(r, TokenUnavailable)} == {ResultKind.RETRY_LATER}
    assert len(server.requests) == 1


async def test_renew_after_401_renews_once_for_many_callers() -> None:
    server = TokenServer()
    auth = provider(server)
    stale = await auth.token()
    renewed = await asyncio.gather(*(auth.renew(stale) for _ in range(10)))
    assert set(renewed) == {"tok-2"}
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401])
async def test_refused_credentials_are_fatal_and_say_so(status: int) -> None:
    with pytest.raises(TokenUnavailable) as caught:
        await provider(TokenServer(status=status)).token()
    assert caught.value.kind is ResultKind.FATAL
    assert "client id/secret" in caught.value.message
    assert "s3cr3t-value" not in caught.value.message


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_busy_token_endpoint_is_retry_later(status: int) -> None:
    with pytest.raises(TokenUnavailable) as caught:
        await provider(TokenServer(status=status)).token()
    assert caught.value.kind is ResultKind.RETRY_LATER


async def test_token_endpoint_network_error_is_retry_later() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TokenUnavailable) as caught:
        await provider(refuse).token()
    assert caught.value.kind is ResultKind.RETRY_LATER


@pytest.mark.parametrize("body", [b"{}", b"<html>", b'{"access_token": ""}'])
async def test_answer_without_token_is_fatal(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with pytest.raises(TokenUnavailable) as caught:
        await provider(handler).token()
    assert caught.value.kind is ResultKind.FATAL


async def test_a_failure_is_not_cached_for_later_callers() -> None:
    server = TokenServer(status=503)
    auth = provider(server)
    with pytest.raises(TokenUnavailable):
        await auth.token()
    server.status = 200
    assert await auth.token() == "tok-2"


async def test_static_token_cannot_be_renewed() -> None:
    auth = StaticToken(Secret("static"))
    assert await auth.token() == "static"
    with pytest.raises(TokenUnavailable) as caught:
        await auth.renew("static")
    assert caught.value.kind is ResultKind.FATAL
