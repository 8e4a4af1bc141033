"""The Starlette app: the Appointments API, the token endpoint and the /_sandbox helpers.

Each API endpoint does its work between `admit` and its answer; what a call goes through
around the work (auth, rate limit, injected faults, latency, drops) is admission.py's.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batch_scheduler.sandbox.admission import (
    NOT_FOUND,
    admit,
    admit_record,
    base_of,
    drop_or,
    json_response,
    state_of,
)
from batch_scheduler.sandbox.bodies import read_input
from batch_scheduler.sandbox.config import SandboxConfig, public_view
from batch_scheduler.sandbox.observe import ObserveMiddleware
from batch_scheduler.sandbox.store import DUPLICATE_MESSAGE, SandboxState
from batch_scheduler.sandbox.validation import error_body, validate_create, validate_update

API = "/api/v1"
ALREADY_CANCELLED = "The appointment has already been cancelled."
CANCELLED_LOCKED = "The appointment has been cancelled and cannot be changed."


def _today() -> date:
    return datetime.now(UTC).date()


# ---------------------------------------------------------------- appointments


async def create_appointment(request: Request) -> Response:
    state = state_of(request)
    admitted = await admit(request, "create")
    if isinstance(admitted, Response):
        return admitted
    data = await read_input(request)
    values, errors = validate_create(data, state.config.departments, _today())
    if "reference" not in errors and state.reference_taken(values.get("reference")):
        errors = {"reference": [DUPLICATE_MESSAGE], **errors}
    if errors:
        return admitted.answer(json_response(error_body(errors), 422))
    record = state.create(values)
    if record is None:  # another request took the reference meanwhile
        return admitted.answer(json_response(error_body({"reference": [DUPLICATE_MESSAGE]}), 422))
    body = {"data": state.render(record, base_of(request))}
    return drop_or(admitted, state, json_response(body, 201))


def _page_number(raw: str | None, default: int) -> int:
    try:
        number = int(raw) if raw is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


async def list_appointments(request: Request) -> Response:
    state = state_of(request)
    key = request.url.path + "?" + request.url.query
    admitted = await admit(request, "list", key)
    if isinstance(admitted, Response):
        return admitted
    config = state.config
    page = _page_number(request.query_params.get("page"), 1)
    per_page = min(
        _page_number(request.query_params.get("per_page"), config.per_page_default),
        config.per_page_max,
    )
    items, total = state.page(page, per_page, base_of(request))
    path = f"{base_of(request)}{API}/appointments"
    return admitted.answer(json_response(_paginate(items, total, page, per_page, path)))


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


async def show_appointment(request: Request) -> Response:
    found = await admit_record(request, "show")
    if isinstance(found, Response):
        return found
    admitted, record = found
    return admitted.answer(
        json_response({"data": state_of(request).render(record, base_of(request))})
    )


async def update_appointment(request: Request) -> Response:
    state = state_of(request)
    found = await admit_record(request, "update")
    if isinstance(found, Response):
        return found
    admitted, record = found
    if record.status == "cancelled":
        return admitted.answer(json_response(error_body({"status": [CANCELLED_LOCKED]}), 422))
    current = {
        "is_interpreter_needed": record.is_interpreter_needed,
        "interpreter_language": record.interpreter_language,
    }
    data = await read_input(request)
    values, errors = validate_update(data, state.config.departments, _today(), current)
    if "reference" not in errors and state.reference_taken(values.get("reference"), record.id):
        errors = {"reference": [DUPLICATE_MESSAGE], **errors}
    if errors:
        return admitted.answer(json_response(error_body(errors), 422))
    state.update(record.id, values)
    return admitted.answer(json_response({"data": state.render(record, base_of(request))}))


async def cancel_appointment(request: Request) -> Response:
    state = state_of(request)
    found = await admit_record(request, "cancel")
    if isinstance(found, Response):
        return found
    admitted, record = found
    if record.status == "cancelled":
        return admitted.answer(json_response(error_body({"status": [ALREADY_CANCELLED]}), 422))
    reason = (await read_input(request)).get("cancellation_reason")
    errors = _reason_errors(reason)
    if errors:
        return admitted.answer(json_response(error_body(errors), 422))
    if state.cancel(record.id, reason) is None:  # a concurrent cancel won
        return admitted.answer(json_response(error_body({"status": [ALREADY_CANCELLED]}), 422))
    body = {"data": state.render(record, base_of(request))}
    return drop_or(admitted, state, json_response(body))


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
    state = state_of(request)
    found = await admit_record(request, "message")
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
        return admitted.answer(json_response({"data": state.add_message(record.id, text)}, 201))
    return admitted.answer(json_response(error_body(errors), 422))


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
    state = state_of(request)
    config = state.config
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    if _basic_client(request) != (config.client_id, config.client_secret):
        return json_response({"error": "invalid_client"}, 401, {"WWW-Authenticate": "Basic"})
    grant = form.get("grant_type")
    if not grant:
        return json_response({"error": "invalid_request"}, 400)
    if grant != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    token = state.issue_token()
    lifetime = math.ceil(config.token_lifetime)
    return json_response({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})


# ---------------------------------------------------------------- /_sandbox helpers


async def sandbox_reset(request: Request) -> Response:
    state_of(request).reset()
    return json_response({"ok": True})


async def sandbox_state(request: Request) -> Response:
    return json_response(state_of(request).all_rendered(base_of(request)))


async def sandbox_requests(request: Request) -> Response:
    return json_response(state_of(request).requests())


async def sandbox_stats(request: Request) -> Response:
    return json_response(state_of(request).stats())


async def sandbox_seed(request: Request) -> Response:
    """Store {"count": N, "prefix": "SEED"} appointments at once (benches: a big account)."""
    try:
        asked = json.loads(await request.body() or b"{}")
        count, prefix = int(asked.get("count", 0)), str(asked.get("prefix", "SEED"))
        ids = state_of(request).seed(count, prefix)
    except (ValueError, TypeError, AttributeError) as exc:
        return json_response({"message": str(exc)}, 422)
    return json_response({"created": len(ids)})


async def sandbox_config(request: Request) -> Response:
    state = state_of(request)
    if request.method == "GET":
        return json_response(public_view(state.config))
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("send a JSON object of settings")
        config = state.reconfigure(changes)
    except (ValueError, TypeError) as exc:
        return json_response({"message": str(exc)}, 422)
    return json_response(public_view(config))


# ---------------------------------------------------------------- errors and assembly


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return json_response(NOT_FOUND, 404)
    if exc.status_code == 405:
        message = f"The {request.method} method is not supported for route {request.url.path}."
        return json_response({"message": message}, 405, dict(exc.headers or {}))
    return json_response({"message": exc.detail}, exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    return json_response({"message": "Server Error"}, 500)


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
    Route("/_sandbox/seed", sandbox_seed, methods=["POST"]),
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
