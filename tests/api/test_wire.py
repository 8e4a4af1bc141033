"""The wires: aiohttp's (the default) and httpx's, behind one interface, give the same answers
and the same errors (NotSent / AnswerLost) for the same events.

Everything runs over real loopback HTTP: the sandbox for the API's behaviour (statuses,
drops, latency), and a small aiohttp echo server where the exact bytes matter; only the
translation of httpx's own exceptions uses httpx.MockTransport.
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
from batch_scheduler.api.client import form_content
from batch_scheduler.api.wire import AiohttpWire, HttpxWire, Wire
from batch_scheduler.config import ApiSettings, BodyFormat, Secret
from batch_scheduler.errors import AnswerLost, ConfigError, NotSent, WireError
from batch_scheduler.models import ClaimantIn, ResultKind
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.requests import booking, client_for

pytestmark = pytest.mark.anyio
K = ResultKind
SIAN = ClaimantIn("Siân ap Iorwerth", date(1990, 12, 10), "+447700900123", "s@example.org")


# ---------------------------------------------------------------- the API, through the sandbox


async def test_it_is_the_default_and_httpx_can_be_chosen(sandbox: RunningSandbox) -> None:
    async with client_for(sandbox.base_url) as client:
        assert isinstance(client.wire, AiohttpWire)
    async with client_for(sandbox.base_url, http_client="httpx") as client:
        assert isinstance(client.wire, HttpxWire)
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


WIRES = {"aiohttp": AiohttpWire, "httpx": HttpxWire}


@pytest.fixture(params=sorted(WIRES))
async def wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    made: Wire = WIRES[request.param]()
    yield made
    await made.aclose()


async def test_method_path_query_headers_and_body_pass_through_unchanged(
    echo: TestServer, wire: Wire
) -> None:
    url = str(echo.make_url("/api/v1/appointments/a%2Fb/cancel")) + "?q=x+y&page=2"
    headers = [("X-Trace", "t1"), ("Authorization", "Bearer tok"), ("Content-Type", "x/y")]
    answer = await wire.exchange("POST", url, headers, '{"name":"Siân"}'.encode(), 5.0)
    assert answer.status_code == 207 and answer.reason_phrase == "Echo"
    assert answer.headers["content-encoding"] == "gzip"  # case-insensitive
    seen = answer.json()  # gzip decoded by the wire
    assert seen["method"] == "POST"
    assert seen["path_qs"] == "/api/v1/appointments/a%2Fb/cancel?q=x+y&page=2"
    headers_seen = {k.lower(): v for k, v in seen["headers"]}
    assert headers_seen["x-trace"] == "t1" and headers_seen["authorization"] == "Bearer tok"
    assert headers_seen["content-type"] == "x/y"
    assert json.loads(seen["body"]) == {"name": "Siân"}


async def test_a_form_body_arrives_byte_for_byte(echo: TestServer, wire: Wire) -> None:
    body = form_content({"claimant[name]": "Ø & co"})
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    answer = await wire.exchange("POST", str(echo.make_url("/form")), headers, body, 5.0)
    seen = answer.json()
    assert seen["body"] == "claimant%5Bname%5D=%C3%98+%26+co"


async def test_no_cookie_is_kept_between_calls(echo: TestServer, wire: Wire) -> None:
    url = str(echo.make_url("/cookies"))
    first = await wire.exchange("GET", url, [], None, 5.0)  # answers with two Set-Cookie
    second = await wire.exchange("GET", url, [], None, 5.0)
    assert "set-cookie" in first.headers
    assert "cookie" not in {k.lower() for k, _ in second.json()["headers"]}


async def test_the_read_timeout_is_answer_lost_and_the_pool_still_works(
    echo: TestServer, wire: Wire
) -> None:
    with pytest.raises(AnswerLost) as caught:
        await wire.exchange("GET", str(echo.make_url("/slow")), [], None, 0.1)
    assert caught.value.words == "no answer arrived before the timeout"
    ok = await wire.exchange("GET", str(echo.make_url("/fine")), [], None, 5.0)
    assert ok.status_code == 207


async def test_a_refused_connection_is_not_sent(refusing_port: int, wire: Wire) -> None:
    with pytest.raises(NotSent) as caught:
        await wire.exchange("POST", f"http://127.0.0.1:{refusing_port}/", [], b"x", 5.0)
    assert caught.value.words == "could not connect to the API (refused or unreachable)"


@pytest.mark.parametrize(
    ("raised", "kind", "words"),
    [
        (httpx.ConnectError("refused"), NotSent,
         "could not connect to the API (refused or unreachable)"),
        (httpx.ConnectTimeout("slow"), NotSent, "timed out while connecting to the API"),
        (httpx.PoolTimeout("busy"), NotSent, "timed out waiting for a free connection to the API"),
        (httpx.ReadError("reset"), AnswerLost,
         "the connection failed while waiting for the answer"),
        (httpx.ReadTimeout("slow"), AnswerLost, "no answer arrived before the timeout"),
        (httpx.WriteError("broken"), AnswerLost, "the connection failed while sending the request"),
        (httpx.WriteTimeout("slow"), AnswerLost, "timed out while sending the request"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."),
         AnswerLost, "the connection was closed before an answer arrived"),
        (httpx.ProxyError("proxy"), AnswerLost, "a network error occurred (ProxyError)"),
        (ConnectionResetError(104, "reset"), AnswerLost,
         "a network error occurred (ConnectionResetError)"),
    ],
)  # fmt: skip
async def test_httpx_errors_become_ours(
    raised: Exception, kind: type[WireError], words: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise raised

    wire = HttpxWire(httpx.MockTransport(fail))
    try:
        with pytest.raises(WireError) as caught:
            await wire.exchange("POST", "http://127.0.0.1:9/", [], b"x", 5.0)
    finally:
        await wire.aclose()
    assert type(caught.value) is kind and caught.value.words == words


@pytest.mark.parametrize("body_format", [BodyFormat.FORM, BodyFormat.JSON])
async def test_the_client_sends_the_same_request_through_exchange_and_through_httpx(
    echo: TestServer, body_format: BodyFormat
) -> None:
    """Whichever wire sends, the server sees the same request."""
    arrived = echo.app[SEEN]
    for http_client in ("aiohttp", "httpx"):
        async with client_for(
            str(echo.make_url("")), http_client=http_client, body_format=body_format
        ) as client:
            assert isinstance(client.wire, WIRES[http_client])
            await client.create(booking("AIO-1", claimant=SIAN))
            await client.cancel("a/b", reason="Moved")
            await client.cancel("c d")
    assert len(arrived) == 6
    assert arrived[:3] == arrived[3:]
