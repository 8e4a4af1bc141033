"""What every API call goes through around the work, in a fixed order: numbering (and token
revocation when due) -> auth -> rate limit -> injected 429 -> latency -> burst or injected 5xx
(change nothing) -> [the work, app.py] -> maybe a latency spike (the change is made, the
answer is late) -> maybe a drop (creates and cancels: the change is stored, then the
connection is closed with no answer).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from batch_scheduler.sandbox import faults
from batch_scheduler.sandbox.bodies import read_input
from batch_scheduler.sandbox.drop import DropConnection
from batch_scheduler.sandbox.store import Access, Closing, SandboxState


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def state_of(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def base_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@dataclass
class Call:
    """An API call that got past auth, the rate limit, latency and injected errors.

    `op` and `key` name the request for the fault decisions (e.g. "create", the reference);
    `occurrence` counts earlier requests with the same op and key."""

    op: str
    key: str
    occurrence: int
    rate: faults.RateVerdict | None
    spike: float = 0.0  # seconds to hold the answer back, after the work
    closing: Closing | None = None

    def answer(self, response: Response) -> Response:
        if self.rate is not None:
            response.headers.update(self.rate.headers())
        if self.spike > 0 and self.closing is not None:
            return _Late(response, self.spike, self.closing)
        return response


class _Late(Response):
    """An answer sent `delay` seconds after the work was done (none if the server stops)."""

    def __init__(self, inner: Response, delay: float, closing: Closing) -> None:
        super().__init__(status_code=inner.status_code)
        self.inner = inner
        self.delay = delay
        self.closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self.closing.sleep(self.delay):
            await DropConnection()(scope, receive, send)
            return
        await self.inner(scope, receive, send)


@dataclass
class _Pass:
    """A caller that passed auth and the rate limit."""

    token: str
    rate: faults.RateVerdict | None
    number: int  # the call's place in arrival order, 1-based


def _authorize(request: Request) -> _Pass | Response:
    """Auth, then the rate limit: who may go on, or the answer."""
    state = state_of(request)
    number = state.count_call()
    token = _bearer(request)
    access = state.check_token(token)
    if access is Access.UNAUTHENTICATED or token is None:
        return json_response({"message": "Unauthenticated."}, 401)
    if access is Access.FORBIDDEN:
        return json_response({"message": "This action is unauthorized."}, 403)
    rate = state.take_rate_slot(token)
    if rate is not None and rate.retry_after is not None:
        return json_response({"message": "Too Many Attempts."}, 429, rate.headers())
    return _Pass(token, rate, number)


async def _suffer(request: Request, passed: _Pass, op: str, key: str) -> Call | Response:
    """Latency, then maybe an injected 5xx that changes nothing: a Call to go on with."""
    state = state_of(request)
    occurrence = state.next_occurrence(op, key)
    config = state.config
    if faults.throttled(config, op, key, occurrence):
        return _too_many(config.throttle_retry_after)
    delay = faults.latency(config, op, key, occurrence)
    if delay > 0 and await state.closing.sleep(delay):
        return DropConnection()  # the server is stopping: like a real one, it answers nothing
    spike = faults.spike(config, op, key, occurrence)
    call = Call(op, key, occurrence, passed.rate, spike, state.closing)
    status = faults.in_burst(config, passed.number)
    if status == 429:
        return _too_many(0)
    if status is None:
        status = faults.injected_error(config, op, key, occurrence)
    if status is not None:
        return call.answer(json_response({"message": "Server Error"}, status))
    return call


def _too_many(retry_after: int) -> Response:
    return json_response({"message": "Too Many Attempts."}, 429, {"Retry-After": str(retry_after)})


async def admit(request: Request, op: str, key: str | None = None) -> Call | Response:
    """Everything before the work. Without `key`, the create key is read from the body."""
    passed = _authorize(request)
    if isinstance(passed, Response):
        return passed
    if key is None:
        key = _create_key(await read_input(request))
    return await _suffer(request, passed, op, key)


def _create_key(values: dict[str, Any]) -> str:
    """A create is known by its reference; without one, by its whole input."""
    reference = values.get("reference")
    if isinstance(reference, str | int) and not isinstance(reference, bool):
        return f"ref:{reference}"
    text = json.dumps(values, sort_keys=True, default=str)
    return "body:" + hashlib.sha256(text.encode()).hexdigest()


def drop_or(call: Call, state: SandboxState, response: Response) -> Response:
    if faults.should_drop(state.config, call.op, call.key, call.occurrence):
        return DropConnection()
    return call.answer(response)


def _record_id(request: Request) -> str:
    return str(request.path_params["appointment"])


def _lookup(request: Request) -> Any:
    """The stored record for the path's id, or None (unknown or not a UUID)."""
    raw = _record_id(request)
    try:
        uuid.UUID(raw)
    except ValueError:
        return None
    return state_of(request).find(raw.lower())


NOT_FOUND = {"message": "Not Found."}


async def admit_record(request: Request, op: str) -> tuple[Call, Any] | Response:
    """Everything before the work on the path's appointment, and its record (or a 404)."""
    admitted = await admit(request, op, _record_id(request))
    if isinstance(admitted, Response):
        return admitted
    record = _lookup(request)
    if record is None:
        return admitted.answer(json_response(NOT_FOUND, 404))
    return admitted, record
