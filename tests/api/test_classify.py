"""Classifying HTTP answers and transport errors: what the sender may safely repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from batch_scheduler.api.classify import (
    classify,
    describe_transport_error,
    parse_retry_after,
    transport_result,
)
from batch_scheduler.api.resource import parse_single
from batch_scheduler.models import ResultKind

K = ResultKind
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # injected "now": no dependence on the date


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, bytes | str):
        return httpx.Response(status, content=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def kind_of(response: httpx.Response, changing: bool) -> ResultKind:
    return classify(response, changing=changing, parse=parse_single).kind


def test_2xx_parses_the_value() -> None:
    result = classify(answer(201, {"data": {"id": "a1"}}), changing=True, parse=parse_single)
    assert result.kind is K.SUCCESS and result.ok
    assert result.status_code == 201
    assert result.value is not None and result.value.id == "a1"


@pytest.mark.parametrize(
    ("status", "changing", "expected"),
    [
        (401, True, K.FATAL),
        (403, False, K.FATAL),
        (404, False, K.REJECTED),
        (409, True, K.REJECTED),
        (422, True, K.REJECTED),
        (400, True, K.REJECTED),
        (429, True, K.RETRY_LATER),
        (503, True, K.RETRY_LATER),
        (500, True, K.UNKNOWN),
        (502, True, K.UNKNOWN),
        (504, True, K.UNKNOWN),
        (500, False, K.RETRY_LATER),
        (502, False, K.RETRY_LATER),
        (504, False, K.RETRY_LATER),
        (302, True, K.UNKNOWN),
        (302, False, K.REJECTED),
    ],
)
def test_status_classification(status: int, changing: bool, expected: ResultKind) -> None:
    assert kind_of(answer(status, {"message": "m"}), changing) is expected


def test_422_carries_message_and_field_errors() -> None:
    body = {
        "message": "The claimant.email field must be a valid email address. (and 1 more error)",
        "errors": {
            "claimant.email": ["The claimant.email field must be a valid email address."],
            "duration_in_minutes": ["Too long.", "Not a number."],
        },
    }
    result = classify(answer(422, body), changing=True, parse=parse_single)
    assert result.message == body["message"]
    assert result.field_errors == {
        "claimant.email": ("The claimant.email field must be a valid email address.",),
        "duration_in_minutes": ("Too long.", "Not a number."),
    }


def test_non_json_error_body_gives_the_status_line() -> None:
    result = classify(answer(404, "<html>nope</html>"), changing=False, parse=parse_single)
    assert result.kind is K.REJECTED
    assert result.message == "HTTP 404 Not Found"


def test_429_gives_retry_after_seconds() -> None:
    response = answer(429, {"message": "Too Many Attempts."}, {"Retry-After": "7"})
    result = classify(response, changing=True, parse=parse_single)
    assert (result.kind, result.retry_after, result.message) == (
        K.RETRY_LATER,
        7.0,
        "Too Many Attempts.",
    )
    no_header = classify(answer(429, {}), changing=True, parse=parse_single)
    assert no_header.retry_after is None


def test_503_passes_retry_after_on() -> None:
    response = answer(503, {"message": "Server Error"}, {"Retry-After": "3"})
    assert classify(response, changing=True, parse=parse_single).retry_after == 3.0


@pytest.mark.parametrize("body", [b"", b"<html>ok</html>", b"{}", b'{"data": []}', b"[1]"])
def test_unreadable_2xx_is_unknown_for_changes_and_retry_for_reads(body: bytes) -> None:
    response = answer(201, body, {"Content-Type": "application/json"})
    assert kind_of(response, changing=True) is K.UNKNOWN
    assert kind_of(response, changing=False) is K.RETRY_LATER


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0
    assert parse_retry_after("-5", NOW) == 0.0
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("nan", NOW) is None
    assert parse_retry_after("1.5", NOW) == 1.5
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == 90.0
    earlier = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0


REQUEST = httpx.Request("POST", "http://127.0.0.1/api/v1/appointments")


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused", request=REQUEST),
        httpx.ConnectTimeout("slow", request=REQUEST),
        httpx.PoolTimeout("busy", request=REQUEST),
    ],
)
def test_errors_before_sending_are_retry_later_even_for_changes(exc: Exception) -> None:
    assert transport_result(exc, changing=True).kind is K.RETRY_LATER


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadError("reset", request=REQUEST),
        httpx.ReadTimeout("slow", request=REQUEST),
        httpx.WriteError("broken pipe", request=REQUEST),
        httpx.WriteTimeout("slow", request=REQUEST),
        httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=REQUEST
        ),
        httpx.ProxyError("proxy", request=REQUEST),
        ConnectionResetError(104, "reset"),
    ],
)
def test_errors_after_sending_are_unknown_for_changes(exc: Exception) -> None:
    assert transport_result(exc, changing=True).kind is K.UNKNOWN
    assert transport_result(exc, changing=False).kind is K.RETRY_LATER


def test_transport_messages_are_plain_words() -> None:
    exc = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    assert describe_transport_error(exc) == "the connection was closed before an answer arrived"
    result = transport_result(exc, changing=True)
    assert result.status_code is None
    assert result.message is not None and "may have been applied" in result.message
