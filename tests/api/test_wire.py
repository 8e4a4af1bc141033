"""AiohttpTransport, the client's default wire: same answers, same exceptions as httpx's own.

Everything runs over real loopback HTTP: the sandbox for the API's behaviour (statuses,
drops, latency), and a small aiohttp echo server where the exact bytes matter.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from batch_scheduler.api import ApiClient
from batch_scheduler.api.wire import AiohttpTransport
from batch_scheduler.config import ApiSettings, BodyFormat, Secret
from batch_scheduler.errors import ConfigError
from batch_scheduler.models import ClaimantIn, ResultKind
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.requests import booking, client_for

pytestmark = pytest.mark.anyio
K = ResultKind
SIAN = ClaimantIn("Siân ap Iorwerth", date(1990, 12, 10), "+447700900123", "s@example.org")


# ---------------------------------------------------------------- the API, through the sandbox


async def test_it_is_the_default_and_httpx_can_be_chosen(sandbox: RunningSandbox) -> None:
    async with client_for(sandbox.base_url) as client:
        assert isinstance(client._http._transport, AiohttpTransport)
    async with client_for(sandbox.base_url, http_client="httpx") as client:
        assert not isinstance(client._http._transport, AiohttpTransport)
        assert (await client.create(booking("AIO-1", claimant=SIAN))).kind is K.SUCCESS
    with pytest.raises(ConfigError):
        client_for(sandbox.base_url, http_client="curl")


@pytest.mark.parametrize("body_format", [BodyFormat.FORM, BodyFormat.JSON])
async def test_a_create_arrives_intact_in_either_body_format(
    sandbox: RunningSandbox, body_format: BodyFormat
) -> None:
    async with client_for(sandbox.base_url, body_format=body_format) as client:
        result = await client.create(booking("AIO-1", claimant=SIAN))
    assert result.kind is K.SUCCESS and result.status_code == 201
    assert result.value is not None and result.value.reference == "AIO-1"
    [stored] = sandbox.appointments()
    assert stored["claimant"]["name"] == "Siân ap Iorwerth"


async def test_4xx_answers_keep_their_status_message_and_field_errors(
    sandbox: RunningSandbox,
) -> None:
    async with client_for(sandbox.base_url) as client:
        await client.create(booking("AIO-1", claimant=SIAN))
        taken = await client.create(booking("AIO-1", claimant=SIAN))
        missing = await client.show("00000000-0000-4000-8000-000000000000")
    assert taken.kind is K.REJECTED and taken.status_code == 422
    assert "already been taken" in taken.field_errors["reference"][0]
    assert missing.kind is K.REJECTED and missing.status_code == 404


async def test_a_bad_token_is_sent_and_refused(sandbox: RunningSandbox) -> None:
    settings = ApiSettings(base_url=sandbox.base_url, token=Secret("wrong"))
    async with ApiClient(settings) as client:
        result = await client.create(booking("AIO-1", claimant=SIAN))
    assert result.kind is K.FATAL and result.status_code == 401


async def test_5xx_leaves_a_create_unknown_and_a_read_retryable(
    sandbox_factory: Any,
) -> None:
    server = sandbox_factory(SandboxConfig(error_rate=1.0, error_statuses=(502,)))
    async with client_for(server.base_url) as client:
        create = await client.create(booking("AIO-1", claimant=SIAN))
        page = await client.list_page(1)
    assert create.kind is K.UNKNOWN and create.status_code == 502
    assert page.kind is K.RETRY_LATER and page.status_code == 502


async def test_a_429_carries_retry_after(sandbox_factory: Any) -> None:
    server = sandbox_factory(SandboxConfig(rate_limit=1.0))
    async with client_for(server.base_url) as client:
        await client.create(booking("AIO-1", claimant=SIAN))
        throttled = await client.create(booking("AIO-2", claimant=SIAN))
    assert throttled.kind is K.RETRY_LATER and throttled.status_code == 429
    assert throttled.retry_after is not None and throttled.retry_after >= 1


async def test_a_dropped_connection_leaves_the_create_unknown(sandbox_factory: Any) -> None:
    server = sandbox_factory(SandboxConfig(drop_rate=1.0))
    async with client_for(server.base_url) as client:
        result = await client.create(booking("AIO-1", claimant=SIAN))
    assert result.kind is K.UNKNOWN and result.status_code is None
    assert result.message is not None and "closed before an answer" in result.message
    assert [item["reference"] for item in server.appointments()] == ["AIO-1"]  # it was stored


async def test_a_timeout_after_sending_is_unknown_for_a_create(sandbox_factory: Any) -> None:
    server = sandbox_factory(SandboxConfig(latency=2.0))
    async with client_for(server.base_url, timeout=0.2) as client:
        create = await client.create(booking("AIO-1", claimant=SIAN))
        page = await client.list_page(1)
    assert create.kind is K.UNKNOWN and create.message is not None
    assert create.message.startswith("no answer arrived before the timeout")
    assert page.kind is K.RETRY_LATER


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, every time."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_refused_connection_is_retryable_even_for_a_create(refusing_port: int) -> None:
    async with client_for(f"http://127.0.0.1:{refusing_port}") as client:
        result = await client.create(booking("AIO-1", claimant=SIAN))
    assert result.kind is K.RETRY_LATER and result.status_code is None
    assert result.message is not None and "could not connect" in result.message


# ---------------------------------------------------------------- the exact bytes, via an echo


async def _echo(request: web.Request) -> web.Response:
    """What arrived, as gzipped JSON, with a repeated response header."""
    if request.path == "/slow":
        await request.app[NEVER].wait()
    seen = {
        "method": request.method,
        "path_qs": request.raw_path,
        "headers": list(request.headers.items()),
        "body": (await request.read()).decode("utf-8"),
    }
    wire = {k.lower(): v for k, v in seen["headers"] if k.lower() != "user-agent"}
    request.app[SEEN].append((seen["method"], seen["path_qs"], seen["body"], wire))
    response = web.Response(
        body=gzip.compress(json.dumps(seen).encode()), status=207, reason="Echo"
    )
    response.headers["Content-Encoding"] = "gzip"
    response.headers.add("Set-Cookie", "a=1")
    response.headers.add("Set-Cookie", "b=2")
    return response


NEVER = web.AppKey("never", asyncio.Event)
SEEN = web.AppKey("seen", list)


@pytest.fixture
async def echo() -> AsyncIterator[TestServer]:
    app = web.Application()
    app[NEVER] = asyncio.Event()
    app[SEEN] = []
    app.router.add_route("*", "/{tail:.*}", _echo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_method_path_query_headers_and_body_pass_through_unchanged(
    echo: TestServer,
) -> None:
    base = str(echo.make_url("/"))
    async with httpx.AsyncClient(transport=AiohttpTransport(), base_url=base) as http:
        response = await http.post(
            "/api/v1/appointments/a%2Fb/cancel",
            params={"q": "x y", "page": 2},
            json={"name": "Siân"},
            headers={"X-Trace": "t1", "Authorization": "Bearer tok"},
        )
    assert response.status_code == 207 and response.reason_phrase == "Echo"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    seen = response.json()  # gzip decoded once, by httpx
    assert seen["method"] == "POST"
    assert seen["path_qs"] == "/api/v1/appointments/a%2Fb/cancel?q=x+y&page=2"
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["x-trace"] == "t1" and headers["authorization"] == "Bearer tok"
    assert headers["content-type"] == "application/json"
    assert json.loads(seen["body"]) == {"name": "Siân"}


async def test_a_form_body_is_sent_as_httpx_encoded_it(echo: TestServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
        response = await http.post(str(echo.make_url("/form")), data={"claimant[name]": "Ø & co"})
    seen = response.json()
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen["body"] == "claimant%5Bname%5D=%C3%98+%26+co"


async def test_the_per_request_read_timeout_is_honoured(echo: TestServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=30) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(str(echo.make_url("/slow")), timeout=0.1)
        ok = await http.get(str(echo.make_url("/fine")))  # the pool is still usable
    assert ok.status_code == 207


# ---------------------------------------------------------------- exchange: the client's door


async def test_exchange_answers_as_an_httpx_response_would(echo: TestServer) -> None:
    transport = AiohttpTransport()
    url = str(echo.make_url("/api/v1/appointments/a%2Fb/cancel"))
    try:
        answer = await transport.exchange(
            "POST", url, [("X-Trace", "t1")], b'{"a":1}', {"read": 5.0, "connect": 5.0}
        )
    finally:
        await transport.aclose()
    assert answer.status_code == 207 and answer.reason_phrase == "Echo"
    assert answer.headers.get("content-encoding") == "gzip"  # case-insensitive, as httpx's
    seen = answer.json()  # gzip decoded by httpx's decoder
    assert seen["path_qs"] == "/api/v1/appointments/a%2Fb/cancel"
    assert {k.lower(): v for k, v in seen["headers"]}["x-trace"] == "t1"
    assert seen["body"] == '{"a":1}'


async def test_exchange_raises_the_same_httpx_errors(echo: TestServer, refusing_port: int) -> None:
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.exchange("GET", f"http://127.0.0.1:{refusing_port}/", [], None, None)
        with pytest.raises(httpx.ReadTimeout):
            await transport.exchange("GET", str(echo.make_url("/slow")), [], None, {"read": 0.1})
    finally:
        await transport.aclose()


@pytest.mark.parametrize("body_format", [BodyFormat.FORM, BodyFormat.JSON])
async def test_the_client_sends_the_same_request_through_exchange_and_through_httpx(
    echo: TestServer, body_format: BodyFormat
) -> None:
    """The default client skips httpx's Request and Response; the wire must not change."""
    arrived = echo.app[SEEN]
    for http_client in ("aiohttp", "httpx"):
        async with client_for(
            str(echo.make_url("")), http_client=http_client, body_format=body_format
        ) as client:
            assert (client._wire is not None) == (http_client == "aiohttp")
            await client.create(booking("AIO-1", claimant=SIAN))
            await client.cancel("a/b", reason="Moved")
            await client.cancel("c d")
    assert len(arrived) == 6
    assert arrived[:3] == arrived[3:]
