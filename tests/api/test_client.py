"""ApiClient: what goes on the wire, renewal on 401, classification, no leaks.

The unit tests swap the network for `httpx.MockTransport` behind the client's wire seam, so
what is tested is the client's own request building and classification. The loopback tests
at the end run the same client against the real sandbox server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.api import ApiClient
from batch_scheduler.api.client import form_content
from batch_scheduler.api.wire import HttpxWire
from batch_scheduler.config import ApiSettings, BodyFormat, Secret
from batch_scheduler.errors import ConfigError
from batch_scheduler.models import ApiResult, AppointmentRequest, ClaimantIn, ResultKind
from batch_scheduler.sandbox import RunningSandbox
from tests.support.requests import WHEN, booking

pytestmark = pytest.mark.anyio
K = ResultKind

BASE = "http://127.0.0.1:9"
TOKEN_URL = BASE + "/oauth2/token"
STATIC = "static-token-do-not-leak"
SECRET = "client-secret-do-not-leak"
ISSUED = "issued-token-do-not-leak"

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


ADA = ClaimantIn("Ada Lovelace", date(1990, 12, 10), "+447700900123", "ada@example.org")


def static_settings(**extra: Any) -> ApiSettings:
    return ApiSettings(base_url=BASE + "/", token=Secret(STATIC), **extra)


def oauth_settings(**extra: Any) -> ApiSettings:
    return ApiSettings(
        base_url=BASE, client_id="cid", client_secret=Secret(SECRET), token_url=TOKEN_URL, **extra
    )


def resource(appointment_id: str = "a1", reference: str | int = "REF-1") -> dict[str, Any]:
    return {"id": appointment_id, "reference": reference, "status": "scheduled", "url": "u"}


class FakeApi:
    """Answers API calls with `script` (responses or exceptions, in order, the last one
    repeating) and the token endpoint with tok-1, tok-2, ...; records every request."""

    def __init__(self, *script: httpx.Response | Exception, token_status: int = 200) -> None:
        self.script = list(script) or [httpx.Response(200, json={"data": resource()})]
        self.token_status = token_status
        self.calls: list[httpx.Request] = []
        self.token_calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            self.token_calls.append(request)
            if self.token_status != 200:
                return httpx.Response(self.token_status, json={"error": "invalid_client"})
            token = ISSUED if len(self.token_calls) == 1 else f"{ISSUED}-{len(self.token_calls)}"
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        self.calls.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def client(self, settings: ApiSettings | None = None) -> ApiClient:
        return ApiClient(settings or static_settings(), wire=HttpxWire(httpx.MockTransport(self)))


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


# ---------------------------------------------------------------- what goes on the wire


async def test_create_sends_the_vendor_form_with_bearer_and_accept() -> None:
    api = FakeApi(httpx.Response(201, json={"data": resource()}))
    async with api.client() as client:
        assert client.base_url == BASE
        result = await client.create(booking(claimant=ADA, department_id=1))
    assert result.kind is K.SUCCESS and result.status_code == 201
    assert result.value is not None and result.value.id == "a1"
    (request,) = api.calls
    assert (request.method, str(request.url)) == ("POST", BASE + "/api/v1/appointments")
    assert request.headers["Authorization"] == f"Bearer {STATIC}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    sent = form(request)
    assert sent["claimant[name]"] == "Ada Lovelace"
    assert sent["department"] == "1"
    assert sent["appointment_at"] == WHEN.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_create_can_send_json() -> None:
    api = FakeApi(httpx.Response(201, json={"data": resource()}))
    async with api.client(static_settings(body_format=BodyFormat.JSON)) as client:
        await client.create(booking(claimant=ADA, department_id=3))
    body = json.loads(api.calls[0].content)
    assert api.calls[0].headers["Content-Type"] == "application/json"
    assert body["claimant"]["name"] == "Ada Lovelace" and body["department_id"] == 3


async def test_show_cancel_and_check_access_requests() -> None:
    api = FakeApi(
        httpx.Response(200, json={"data": resource()}),
        httpx.Response(200, json={"data": resource()}),
        httpx.Response(200, json={"data": resource()}),
        httpx.Response(200, json={"data": [], "meta": {"current_page": 1, "last_page": 1}}),
    )
    async with api.client() as client:
        results: list[ApiResult[Any]] = [
            await client.show("a1"),
            await client.cancel("a1", "Claimant asked"),
            await client.cancel("a1"),
            await client.check_access(),
        ]
    assert [r.kind for r in results] == [K.SUCCESS] * 4
    seen = [(r.method, r.url.path, r.url.query.decode()) for r in api.calls]
    assert seen == [
        ("GET", "/api/v1/appointments/a1", ""),
        ("POST", "/api/v1/appointments/a1/cancel", ""),
        ("POST", "/api/v1/appointments/a1/cancel", ""),
        ("GET", "/api/v1/appointments", "page=1&per_page=1"),
    ]
    assert json.loads(api.calls[1].content) == {"cancellation_reason": "Claimant asked"}
    assert api.calls[2].content == b""


async def test_an_id_from_a_sheet_cannot_change_the_path() -> None:
    api = FakeApi(httpx.Response(404, json={"message": "Not Found."}))
    async with api.client() as client:
        result = await client.show("../../admin?x=1")
        with pytest.raises(ValueError):
            await client.cancel("  ")
    assert result.kind is K.REJECTED
    assert api.calls[0].url.raw_path == b"/api/v1/appointments/..%2F..%2Fadmin%3Fx%3D1"


async def test_settings_without_credentials_are_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ApiClient(ApiSettings(base_url=BASE))


# ---------------------------------------------------------------- classification through the client


async def test_changing_calls_with_lost_answers_are_unknown_reads_retry() -> None:
    api = FakeApi(httpx.ReadTimeout("slow"))
    async with api.client() as client:
        assert (await client.create(booking(claimant=ADA))).kind is K.UNKNOWN
        assert (await client.cancel("a1")).kind is K.UNKNOWN
        assert (await client.show("a1")).kind is K.RETRY_LATER
        assert (await client.list_page(1)).kind is K.RETRY_LATER


async def test_a_create_that_never_connected_is_retry_later() -> None:
    api = FakeApi(httpx.ConnectError("refused"))
    async with api.client() as client:
        result = await client.create(booking(claimant=ADA))
    assert (result.kind, result.status_code) == (K.RETRY_LATER, None)


async def test_500_on_create_is_unknown_and_on_show_retry_later() -> None:
    api = FakeApi(httpx.Response(500, json={"message": "Server Error"}))
    async with api.client() as client:
        assert (await client.create(booking(claimant=ADA))).kind is K.UNKNOWN
        assert (await client.show("a1")).kind is K.RETRY_LATER


async def test_garbled_success_on_create_is_unknown() -> None:
    api = FakeApi(httpx.Response(201, text="<html>Created</html>"))
    async with api.client() as client:
        result = await client.create(booking(claimant=ADA))
    assert result.kind is K.UNKNOWN and result.status_code == 201


async def test_401_renews_the_token_once_and_repeats_the_call() -> None:
    api = FakeApi(
        httpx.Response(401, json={"message": "Unauthenticated."}),
        httpx.Response(201, json={"data": resource()}),
    )
    async with api.client(oauth_settings()) as client:
        result = await client.create(booking(claimant=ADA))
    assert result.kind is K.SUCCESS
    assert len(api.token_calls) == 2
    assert [r.headers["Authorization"] for r in api.calls] == [
        f"Bearer {ISSUED}",
        f"Bearer {ISSUED}-2",
    ]


async def test_401_after_renewal_is_fatal() -> None:
    api = FakeApi(httpx.Response(401, json={"message": "Unauthenticated."}))
    async with api.client(oauth_settings()) as client:
        result = await client.show("a1")
    assert result.kind is K.FATAL and result.status_code == 401
    assert len(api.calls) == 2 and len(api.token_calls) == 2


async def test_401_with_a_static_token_is_fatal_at_once() -> None:
    api = FakeApi(httpx.Response(401, json={"message": "Unauthenticated."}))
    async with api.client() as client:
        result = await client.create(booking(claimant=ADA))
    assert result.kind is K.FATAL
    assert len(api.calls) == 1


async def test_refused_client_credentials_are_fatal_before_any_api_call() -> None:
    api = FakeApi(token_status=401)
    async with api.client(oauth_settings()) as client:
        result = await client.create(booking(claimant=ADA))
    assert result.kind is K.FATAL
    assert result.message is not None and "client id/secret" in result.message
    assert api.calls == []


async def test_unreachable_token_endpoint_is_retry_later() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = ApiClient(oauth_settings(), wire=HttpxWire(httpx.MockTransport(handler)))
    async with client:
        assert (await client.create(booking(claimant=ADA))).kind is K.RETRY_LATER


async def test_token_is_reused_across_calls() -> None:
    api = FakeApi()
    async with api.client(oauth_settings()) as client:
        for _ in range(5):
            await client.show("a1")
    assert len(api.token_calls) == 1 and len(api.calls) == 5


# ---------------------------------------------------------------- secrets never leak


SECRETS = (STATIC, SECRET, ISSUED)


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


ERROR_SCRIPT: tuple[httpx.Response | Exception, ...] = (
    httpx.Response(401, json={"message": "Unauthenticated."}),
    httpx.Response(403, json={"message": "This action is unauthorized."}),
    httpx.Response(404, json={"message": "Not Found."}),
    httpx.Response(422, json={"message": "Invalid.", "errors": {"claimant.email": ["Bad."]}}),
    httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "1"}),
    httpx.Response(500, json={"message": "Server Error"}),
    httpx.Response(503, text="down"),
    httpx.Response(201, text="<html>"),
    httpx.ReadTimeout("slow"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.Response(302, headers={"Location": "/login"}),
)


@pytest.mark.parametrize("make_settings", [static_settings, oauth_settings])
async def test_no_secret_in_messages_reprs_or_logs(
    make_settings: Callable[[], ApiSettings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeApi(*ERROR_SCRIPT, httpx.Response(200, json={"data": resource()}))
    results = []
    async with api.client(make_settings()) as client:
        for _ in range(len(ERROR_SCRIPT) + 1):
            results.append(await client.create(booking(claimant=ADA)))
        client_repr = repr(client)
    assert {r.kind for r in results} == set(ResultKind)  # every error path was taken
    for refused in (401, 400):
        failing = FakeApi(token_status=refused)
        async with failing.client(oauth_settings()) as client:
            results.append(await client.show("a1"))
    assert_no_secret(client_repr, *(r.message for r in results), *map(repr, results))
    assert_no_secret(*(record.getMessage() for record in caplog.records))
    assert_no_secret(*(repr(record.args) for record in caplog.records))


# ---------------------------------------------------------------- concurrency


async def test_64_concurrent_calls_cause_one_token_request() -> None:
    token_calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if request.url.path == "/oauth2/token":
            token_calls += 1
            await asyncio.sleep(0.05)
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"data": resource()})

    async with ApiClient(oauth_settings(), wire=HttpxWire(httpx.MockTransport(handler))) as client:
        results = await asyncio.gather(*(client.show("a1") for _ in range(64)))
    assert {r.kind for r in results} == {K.SUCCESS}
    assert token_calls == 1


# ---------------------------------------------------------------- against the sandbox (loopback)
# `sandbox` (tests/conftest.py) is a fresh real server per test on loopback: static token
# "sandbox-token", client "sandbox-client" / "sandbox-secret".


def sandbox_static(
    sandbox: RunningSandbox, token: str = "sandbox-token", **extra: Any
) -> ApiSettings:
    return ApiSettings(base_url=sandbox.base_url, token=Secret(token), **extra)


def sandbox_oauth(sandbox: RunningSandbox, **extra: Any) -> ApiSettings:
    return ApiSettings(
        base_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret=Secret("sandbox-secret"),
        token_url=sandbox.token_url,
        **extra,
    )


def vendor_example(reference: str) -> AppointmentRequest:
    """The vendor's example create, as an AppointmentRequest."""
    return AppointmentRequest(
        reference=reference,
        appointment_at=WHEN,
        duration_in_minutes=30,
        claimant=ClaimantIn("John Smith", date(1980, 1, 31), "+447700900000", "john@example.com"),
        is_interpreter_needed=False,
        department_id=1,
        options={"features_call_recording_enable": True, "features_bandwidth": "medium"},
    )


def stored_references(sandbox: RunningSandbox) -> list[str]:
    return [str(item["reference"]) for item in sandbox.appointments()]


@pytest.mark.parametrize("body_format", list(BodyFormat))
async def test_sandbox_create_in_both_body_formats(
    sandbox: RunningSandbox, body_format: BodyFormat
) -> None:
    async with ApiClient(sandbox_static(sandbox, body_format=body_format)) as client:
        result = await client.create(vendor_example("VENDOR-1"))
        assert result.kind is K.SUCCESS and result.status_code == 201
        created = result.value
        assert created is not None
        assert created.reference == "VENDOR-1"
        assert created.appointment_at == WHEN
        assert created.department_id == 1 and created.status == "scheduled"
        assert created.url and "VENDOR-1" in created.url
        shown = await client.show(created.id)
    assert shown.value == created
    assert stored_references(sandbox) == ["VENDOR-1"]


async def test_sandbox_cancel_then_cancel_again(sandbox: RunningSandbox) -> None:
    async with ApiClient(sandbox_static(sandbox)) as client:
        created = (await client.create(vendor_example("LIFE-1"))).value
        assert created is not None
        cancelled = await client.cancel(created.id, "Claimant asked")
        again = await client.cancel(created.id, "Claimant asked")
    assert cancelled.value is not None and cancelled.value.status == "cancelled"
    assert cancelled.value.cancellation_reason == "Claimant asked"
    assert again.kind is K.REJECTED and again.status_code == 422


async def test_sandbox_bad_token_is_fatal_401(sandbox: RunningSandbox) -> None:
    async with ApiClient(sandbox_static(sandbox, token="not-the-token")) as client:
        result = await client.check_access()
    assert (result.kind, result.status_code) == (K.FATAL, 401)


async def test_sandbox_underprivileged_token_is_fatal_403(sandbox: RunningSandbox) -> None:
    sandbox.reconfigure(underprivileged_tokens=["sandbox-token"])
    async with ApiClient(sandbox_static(sandbox)) as client:
        result = await client.create(vendor_example("NOPE-1"))
    assert (result.kind, result.status_code) == (K.FATAL, 403)
    assert stored_references(sandbox) == []


async def test_sandbox_refused_client_secret_is_fatal(sandbox: RunningSandbox) -> None:
    settings = sandbox_oauth(sandbox)
    wrong = ApiSettings(
        base_url=settings.base_url,
        client_id="sandbox-client",
        client_secret=Secret("wrong-secret"),
        token_url=settings.token_url,
    )
    async with ApiClient(wrong) as client:
        result = await client.check_access()
    assert result.kind is K.FATAL
    assert result.message is not None and "client id/secret" in result.message


async def test_sandbox_unknown_id_is_rejected_404(sandbox: RunningSandbox) -> None:
    async with ApiClient(sandbox_static(sandbox)) as client:
        result = await client.show("00000000-0000-4000-8000-000000000000")
    assert (result.kind, result.status_code) == (K.REJECTED, 404)


async def test_sandbox_invalid_fields_are_rejected_with_field_errors(
    sandbox: RunningSandbox,
) -> None:
    request = AppointmentRequest(
        reference="BAD-1",
        appointment_at=WHEN,
        duration_in_minutes=30,
        claimant=ClaimantIn("Ada", email="not-an-email"),
        is_interpreter_needed=True,
    )
    async with ApiClient(sandbox_static(sandbox)) as client:
        result = await client.create(request)
    assert (result.kind, result.status_code) == (K.REJECTED, 422)
    assert {"claimant.email", "interpreter_language"} <= set(result.field_errors)
    assert all(isinstance(m, str) for ms in result.field_errors.values() for m in ms)


async def test_sandbox_duplicate_reference_is_rejected(sandbox: RunningSandbox) -> None:
    async with ApiClient(sandbox_static(sandbox)) as client:
        first = await client.create(vendor_example("DUP-1"))
        second = await client.create(vendor_example("DUP-1"))
    assert first.kind is K.SUCCESS
    assert second.kind is K.REJECTED and "reference" in second.field_errors


async def test_sandbox_rate_limit_is_retry_later_with_retry_after(sandbox: RunningSandbox) -> None:
    sandbox.reconfigure(rate_limit=1)
    async with ApiClient(sandbox_static(sandbox)) as client:
        results = [await client.list_page(1, per_page=1) for _ in range(4)]
    limited = [r for r in results if r.status_code == 429]
    assert limited, "a burst above the rate limit must meet a 429"
    assert all(r.kind is K.RETRY_LATER for r in limited)
    assert all(r.retry_after is not None and r.retry_after > 0 for r in limited)


async def test_sandbox_dropped_create_is_unknown_but_stored(sandbox: RunningSandbox) -> None:
    sandbox.reconfigure(drop_rate=1.0)
    async with ApiClient(sandbox_static(sandbox)) as client:
        result = await client.create(vendor_example("DROP-1"))
    assert (result.kind, result.status_code) == (K.UNKNOWN, None)
    assert stored_references(sandbox) == ["DROP-1"]


@pytest.mark.parametrize(("status", "expected"), [(503, K.RETRY_LATER), (500, K.UNKNOWN)])
async def test_sandbox_injected_errors_on_create(
    sandbox: RunningSandbox, status: int, expected: ResultKind
) -> None:
    sandbox.reconfigure(error_rate=1.0, error_statuses=[status])
    async with ApiClient(sandbox_static(sandbox)) as client:
        result = await client.create(vendor_example("ERR-1"))
    assert (result.kind, result.status_code) == (expected, status)


async def test_sandbox_token_expiring_mid_sequence_is_renewed(sandbox: RunningSandbox) -> None:
    sandbox.reconfigure(token_lifetime=1.0)
    calls = 0
    async with ApiClient(sandbox_oauth(sandbox)) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < 2.4:
            result = await client.list_page(1, per_page=1)
            assert result.kind is K.SUCCESS, result.message
            calls += 1
            await asyncio.sleep(0.1)
    token_requests = sandbox.stats()["token_requests"]
    assert 1 < token_requests < calls


async def test_sandbox_64_concurrent_calls_one_token_request(sandbox: RunningSandbox) -> None:
    async with ApiClient(sandbox_oauth(sandbox)) as client:
        results = await asyncio.gather(*(client.list_page(1, 1) for _ in range(64)))
    assert {r.kind for r in results} == {K.SUCCESS}
    assert sandbox.stats()["token_requests"] == 1


async def test_sandbox_no_secret_in_results_or_debug_logs(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")
    results = []
    async with ApiClient(sandbox_oauth(sandbox)) as client:
        results.append(await client.create(vendor_example("LEAK-1")))
        issued = (await client._auth.token(), repr(client))
        for knobs in (
            {"error_rate": 1.0, "error_statuses": [500]},
            {"error_rate": 0.0, "drop_rate": 1.0},
            {"drop_rate": 0.0, "underprivileged_tokens": [issued[0]]},
        ):
            sandbox.reconfigure(**knobs)
            results.append(await client.create(vendor_example("LEAK-2")))
    async with ApiClient(sandbox_static(sandbox, token="sandbox-token-wrong")) as client:
        results.append(await client.show("x"))
    assert [r.kind for r in results] == [K.SUCCESS, K.UNKNOWN, K.UNKNOWN, K.FATAL, K.FATAL]
    texts = [issued[1], *(r.message for r in results), *(map(repr, results))]
    texts += [record.getMessage() for record in caplog.records]
    logged = [record.getMessage() for record in caplog.records]
    assert "obtained an access token" in logged and "create: HTTP 201 -> success" in logged
    for secret in (issued[0], "sandbox-secret", "sandbox-token-wrong"):
        assert all(secret not in str(text) for text in texts)


@settings(derandomize=True, max_examples=300)
@given(st.dictionaries(st.text(max_size=15), st.text(max_size=30), max_size=8))
def test_form_content_encodes_exactly_as_urlencode(body: dict[str, str]) -> None:
    """The hand-rolled quoting (plain text kept, ASCII translated) is urlencode's, byte for
    byte: the API sees the same body whichever path built it."""
    assert form_content(body) == urlencode(body).encode()
