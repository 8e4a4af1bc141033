"""The Starlette app: the Appointments API, the token endpoint and the /_sandbox helpers.

Inside an API call the order is fixed: numbering (and token revocation when due) -> auth ->
rate limit -> injected 429 -> latency -> burst or injected 5xx (change nothing) -> the work ->
maybe a latency spike (the change is made, the answer is late) -> maybe drop (creates and
cancels: the change is stored, then the connection is closed with no answer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from batch_scheduler.sandbox import faults
from batch_scheduler.sandbox.bodies import read_input
from batch_scheduler.sandbox.config import SandboxConfig, public_view
from batch_scheduler.sandbox.drop import DropConnection
from batch_scheduler.sandbox.observe import ObserveMiddleware
from batch_scheduler.sandbox.store import DUPLICATE_MESSAGE, Access, Closing, SandboxState
from batch_scheduler.sandbox.validation import error_body, validate_create, validate_update

API = "/api/v1"
ALREADY_CANCELLED = "The appointment has already been cancelled."
CANCELLED_LOCKED = "The appointment has been cancelled and cannot be changed."


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _today() -> date:
    return datetime.now(UTC).date()


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@dataclass
class _Call:
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
    state = _state(request)
    number = state.count_call()
    token = _bearer(request)
    access = state.check_token(token)
    if access is Access.UNAUTHENTICATED or token is None:
        return _json({"message": "Unauthenticated."}, 401)
    if access is Access.FORBIDDEN:
        return _json({"message": "This action is unauthorized."}, 403)
    rate = state.take_rate_slot(token)
    if rate is not None and rate.retry_after is not None:
        return _json({"message": "Too Many Attempts."}, 429, rate.headers())
    return _Pass(token, rate, number)


async def _suffer(request: Request, passed: _Pass, op: str, key: str) -> _Call | Response:
    """Latency, then maybe an injected 5xx that changes nothing: a _Call to go on with."""
    state = _state(request)
    occurrence = state.next_occurrence(op, key)
    config = state.config
    if faults.throttled(config, op, key, occurrence):
        return _too_many(config.throttle_retry_after)
    delay = faults.latency(config, op, key, occurrence)
    if delay > 0 and await state.closing.sleep(delay):
        return DropConnection()  # the server is stopping: like a real one, it answers nothing
    spike = faults.spike(config, op, key, occurrence)
    call = _Call(op, key, occurrence, passed.rate, spike, state.closing)
    status = faults.in_burst(config, passed.number)
    if status == 429:
        return _too_many(0)
    if status is None:
        status = faults.injected_error(config, op, key, occurrence)
    if status is not None:
        return call.answer(_json({"message": "Server Error"}, status))
    return call


def _too_many(retry_after: int) -> Response:
    return _json({"message": "Too Many Attempts."}, 429, {"Retry-After": str(retry_after)})


async def _admit(request: Request, op: str, key: str | None = None) -> _Call | Response:
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


def _drop_or(call: _Call, state: SandboxState, response: Response) -> Response:
    if faults.should_drop(state.config, call.op, call.key, call.occurrence):
        return DropConnection()
    return call.answer(response)


# ---------------------------------------------------------------- appointments


async def create_appointment(request: Request) -> Response:
    state = _state(request)
    admitted = await _admit(request, "create")
    if isinstance(admitted, Response):
        return admitted
    data = await read_input(request)
    values, errors = validate_create(data, state.config.departments, _today())
    if "reference" not in errors and state.reference_taken(values.get("reference")):
        errors = {"reference": [DUPLICATE_MESSAGE], **errors}
    if errors:
        return admitted.answer(_json(error_body(errors), 422))
    record = state.create(values)
    if record is None:  # another request took the reference meanwhile
        return admitted.answer(_json(error_body({"reference": [DUPLICATE_MESSAGE]}), 422))
    body = {"data": state.render(record, _base(request))}
    return _drop_or(admitted, state, _json(body, 201))


def _page_number(raw: str | None, default: int) -> int:
    try:
        number = int(raw) if raw is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


async def list_appointments(request: Request) -> Response:
    state = _state(request)
    key = request.url.path + "?" + request.url.query
    admitted = await _admit(request, "list", key)
    if isinstance(admitted, Response):
        return admitted
    config = state.config
    page = _page_number(request.query_params.get("page"), 1)
    per_page = min(
        _page_number(request.query_params.get("per_page"), config.per_page_default),
        config.per_page_max,
    )
    items, total = state.page(page, per_page, _base(request))
    path = f"{_base(request)}{API}/appointments"
    return admitted.answer(_json(_paginate(items, total, page, per_page, path)))


def _paginate(items: list[Any], total: int, page: int, per_page: int, path: str) -> dict[str, Any]:
    """Laravel's paginator envelope. Its links carry only `page`, as Laravel's do by default."""
    last = max(1, math.ceil(total / per_page))
    first_index = (page - 1) * per_page + 1

    def link(number: int) -> str:
        return f"{path}?page={number}"

    return {
        "data": items,
        "links": {
            "first": link(1),
            "last": link(last),
            "prev": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": first_index if items else None,
            "last_page": last,
            "path": path,
            "per_page": per_page,
            "to": first_index + len(items) - 1 if items else None,
            "total": total,
        },
    }


def _record_id(request: Request) -> str:
    return str(request.path_params["appointment"])


def _lookup(request: Request) -> Any:
    """The stored record for the path's id, or None (unknown or not a UUID)."""
    raw = _record_id(request)
    try:
        uuid.UUID(raw)
    except ValueError:
        return None
    return _state(request).find(raw.lower())


NOT_FOUND = {"message": "Not Found."}


async def _admit_record(request: Request, op: str) -> tuple[_Call, Any] | Response:
    """Everything before the work on the path's appointment, and its record (or a 404)."""
    admitted = await _admit(request, op, _record_id(request))
    if isinstance(admitted, Response):
        return admitted
    record = _lookup(request)
    if record is None:
        return admitted.answer(_json(NOT_FOUND, 404))
    return admitted, record


async def show_appointment(request: Request) -> Response:
    found = await _admit_record(request, "show")
    if isinstance(found, Response):
        return found
    admitted, record = found
    return admitted.answer(_json({"data": _state(request).render(record, _base(request))}))


async def update_appointment(request: Request) -> Response:
    state = _state(request)
    found = await _admit_record(request, "update")
    if isinstance(found, Response):
        return found
    admitted, record = found
    if record.status == "cancelled":
        return admitted.answer(_json(error_body({"status": [CANCELLED_LOCKED]}), 422))
    current = {
        "is_interpreter_needed": record.is_interpreter_needed,
        "interpreter_language": record.interpreter_language,
    }
    data = await read_input(request)
    values, errors = validate_update(data, state.config.departments, _today(), current)
    if "reference" not in errors and state.reference_taken(values.get("reference"), record.id):
        errors = {"reference": [DUPLICATE_MESSAGE], **errors}
    if errors:
        return admitted.answer(_json(error_body(errors), 422))
    state.update(record.id, values)
    return admitted.answer(_json({"data": state.render(record, _base(request))}))


async def cancel_appointment(request: Request) -> Response:
    state = _state(request)
    found = await _admit_record(request, "cancel")
    if isinstance(found, Response):
        return found
    admitted, record = found
    if record.status == "cancelled":
        return admitted.answer(_json(error_body({"status": [ALREADY_CANCELLED]}), 422))
    reason = (await read_input(request)).get("cancellation_reason")
    errors = _reason_errors(reason)
    if errors:
        return admitted.answer(_json(error_body(errors), 422))
    if state.cancel(record.id, reason) is None:  # a concurrent cancel won
        return admitted.answer(_json(error_body({"status": [ALREADY_CANCELLED]}), 422))
    body = {"data": state.render(record, _base(request))}
    return _drop_or(admitted, state, _json(body))


def _reason_errors(reason: object) -> dict[str, list[str]]:
    if reason is None:
        return {}
    if not isinstance(reason, str):
        return {"cancellation_reason": ["The cancellation reason field must be a string."]}
    if len(reason) > 255:
        message = "The cancellation reason field must not be greater than 255 characters."
        return {"cancellation_reason": [message]}
    return {}


async def send_message(request: Request) -> Response:
    state = _state(request)
    found = await _admit_record(request, "message")
    if isinstance(found, Response):
        return found
    admitted, record = found
    text = (await read_input(request)).get("message")
    if text is None:
        errors = {"message": ["The message field is required."]}
    elif not isinstance(text, str):
        errors = {"message": ["The message field must be a string."]}
    elif len(text) > 1000:
        errors = {"message": ["The message field must not be greater than 1000 characters."]}
    elif record.status == "cancelled":
        errors = {"status": [CANCELLED_LOCKED]}
    else:
        return admitted.answer(_json({"data": state.add_message(record.id, text)}, 201))
    return admitted.answer(_json(error_body(errors), 422))


# ---------------------------------------------------------------- OAuth2 token


def _basic_client(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else None


async def issue_token(request: Request) -> Response:
    """Client credentials grant (RFC 6749 4.4) with HTTP Basic client authentication."""
    state = _state(request)
    config = state.config
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    if _basic_client(request) != (config.client_id, config.client_secret):
        return _json({"error": "invalid_client"}, 401, {"WWW-Authenticate": "Basic"})
    grant = form.get("grant_type")
    if not grant:
        return _json({"error": "invalid_request"}, 400)
    if grant != "client_credentials":
        return _json({"error": "unsupported_grant_type"}, 400)
    token = state.issue_token()
    lifetime = math.ceil(config.token_lifetime)
    return _json({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})


# ---------------------------------------------------------------- /_sandbox helpers


async def sandbox_reset(request: Request) -> Response:
    _state(request).reset()
    return _json({"ok": True})


async def sandbox_state(request: Request) -> Response:
    return _json(_state(request).all_rendered(_base(request)))


async def sandbox_requests(request: Request) -> Response:
    return _json(_state(request).requests())


async def sandbox_stats(request: Request) -> Response:
    return _json(_state(request).stats())


async def sandbox_config(request: Request) -> Response:
    state = _state(request)
    if request.method == "GET":
        return _json(public_view(state.config))
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("send a JSON object of settings")
        config = state.reconfigure(changes)
    except (ValueError, TypeError) as exc:
        return _json({"message": str(exc)}, 422)
    return _json(public_view(config))


# ---------------------------------------------------------------- errors and assembly


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _json(NOT_FOUND, 404)
    if exc.status_code == 405:
        message = f"The {request.method} method is not supported for route {request.url.path}."
        return _json({"message": message}, 405, dict(exc.headers or {}))
    return _json({"message": exc.detail}, exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    return _json({"message": "Server Error"}, 500)


ROUTES = [
    Route("/oauth2/token", issue_token, methods=["POST"]),
    Route(f"{API}/appointments", create_appointment, methods=["POST"]),
    Route(f"{API}/appointments", list_appointments, methods=["GET"]),
    Route(f"{API}/appointments/{{appointment}}", show_appointment, methods=["GET"]),
    Route(f"{API}/appointments/{{appointment}}", update_appointment, methods=["PATCH"]),
    Route(f"{API}/appointments/{{appointment}}/cancel", cancel_appointment, methods=["POST"]),
    Route(f"{API}/appointments/{{appointment}}/messages", send_message, methods=["POST"]),
    Route("/_sandbox/reset", sandbox_reset, methods=["POST"]),
    Route("/_sandbox/state", sandbox_state, methods=["GET"]),
    Route("/_sandbox/requests", sandbox_requests, methods=["GET"]),
    Route("/_sandbox/stats", sandbox_stats, methods=["GET"]),
    Route("/_sandbox/config", sandbox_config, methods=["GET", "POST"]),
]


def create_app(config: SandboxConfig, state: SandboxState | None = None) -> Starlette:
    """The sandbox app; its SandboxState is `app.state.sandbox`."""
    app = Starlette(
        routes=ROUTES,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.sandbox = state or SandboxState(config)
    app.add_middleware(ObserveMiddleware, state=app.state.sandbox)
    return app
