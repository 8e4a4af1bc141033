"""Turning what came back from one HTTP call into an `ApiResult`, never an exception.

The one rule that matters for exactly-once: a call that changes things and may have reached
the server (a 500/502/504, a dropped connection, a timeout after sending, a 2xx we cannot
read) is UNKNOWN, never RETRY_LATER, so the sender checks before sending it again. Reads are
safe to repeat, so for them the same failures are RETRY_LATER.

Messages describe what happened in plain words; they never include headers, the token or
the request body.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, TypeVar

from batch_scheduler.api.wire import Answer
from batch_scheduler.errors import NotSent, WireError
from batch_scheduler.i18n import N_, _
from batch_scheduler.models import ApiResult, ResultKind

T = TypeVar("T")
logger = logging.getLogger(__name__)

MAX_MESSAGE = 500  # characters of the API's message kept
_STATUS_WORDS = {  # the statuses a send meets most, in words (translated when said)
    429: N_("too many requests"),
    500: N_("internal server error"),
    502: N_("bad gateway"),
    503: N_("service unavailable"),
    504: N_("gateway timeout"),
}


def transport_result(exc: WireError, *, changing: bool) -> ApiResult[Any]:
    """No HTTP answer: RETRY_LATER if the request provably never left, else it depends."""
    if isinstance(exc, NotSent) or not changing:
        return ApiResult(ResultKind.RETRY_LATER, message=_(exc.words))
    words = _("{why}; the change may have been applied")
    return ApiResult(ResultKind.UNKNOWN, message=words.format(why=_(exc.words)))


def describe(result: ApiResult[Any]) -> str:
    """An answer in plain words: '503 (service unavailable)', or what went wrong."""
    code = result.status_code
    if code is None:
        return result.message or _("no answer")
    words = _STATUS_WORDS.get(code)
    if words is not None:
        words = _(words)
    else:
        try:
            words = HTTPStatus(code).phrase.lower()
        except ValueError:
            words = _("unexpected status")
    return f"{code} ({words})"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)


def _json(response: Answer) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def api_message(response: Answer, body: Any) -> str:
    """The API's own `message`, or the bare status line when there is none."""
    message = body.get("message") if isinstance(body, Mapping) else None
    if isinstance(message, str) and message.strip():
        return message.strip()[:MAX_MESSAGE]
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def field_errors(body: Any) -> dict[str, tuple[str, ...]]:
    """Laravel's 422 `errors` dict: dot-notation field -> messages."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, Mapping):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, value in errors.items():
        values = value if isinstance(value, list | tuple) else [value]
        out[str(key)] = tuple(str(item) for item in values if item is not None)
    return out


def classify(response: Answer, *, changing: bool, parse: Callable[[Any], T]) -> ApiResult[T]:
    """Classify one HTTP answer; on 2xx, `parse` turns the JSON body into the value."""
    status = response.status_code
    if 200 <= status < 300:
        return _success(response, changing=changing, parse=parse)
    body = _json(response)
    message = api_message(response, body)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 401:
        words = _("The API refused the access token (HTTP 401: {message}); check the credentials.")
        text = words.format(message=message)
        return ApiResult(ResultKind.FATAL, status, message=text)
    if status == 403:
        words = _("These credentials are not allowed to do this (HTTP 403: {message}).")
        text = words.format(message=message)
        return ApiResult(ResultKind.FATAL, status, message=text)
    if status in (429, 503):
        return ApiResult(ResultKind.RETRY_LATER, status, message=message, retry_after=retry_after)
    if 400 <= status < 500:
        errors = field_errors(body)
        return ApiResult(ResultKind.REJECTED, status, message=message, field_errors=errors)
    if status >= 500:
        kind = ResultKind.UNKNOWN if changing else ResultKind.RETRY_LATER
        return ApiResult(kind, status, message=message, retry_after=retry_after)
    return _unexpected(status, changing=changing)


def _unexpected(status: int, *, changing: bool) -> ApiResult[Any]:
    """1xx/3xx: not an API answer (e.g. a redirect to a login page: check the base URL)."""
    message = _("The API answered HTTP {status} instead of JSON; check the base URL.").format(
        status=status
    )
    kind = ResultKind.UNKNOWN if changing else ResultKind.REJECTED
    return ApiResult(kind, status, message=message)


def _success(response: Answer, *, changing: bool, parse: Callable[[Any], T]) -> ApiResult[T]:
    try:
        body = response.json() if response.content else None
        value = parse(body)
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.debug("HTTP %s answer did not hold the expected JSON", response.status_code)
        if changing:
            message = _(
                "The API answered success, but not with the expected JSON; it may be applied."
            )
            return ApiResult(ResultKind.UNKNOWN, response.status_code, message=message)
        message = _("The API answered success, but not with the expected JSON.")
        return ApiResult(ResultKind.RETRY_LATER, response.status_code, message=message)
    return ApiResult(ResultKind.SUCCESS, response.status_code, value=value)
