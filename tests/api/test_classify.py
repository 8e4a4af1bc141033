"""Classifying HTTP answers and transport errors: what the sender may safely repeat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import pytest
from multidict import CIMultiDict

from batch_scheduler.api.classify import classify, describe, parse_retry_after, transport_result
from batch_scheduler.api.resource import parse_single
from batch_scheduler.api.wire import Answer
from batch_scheduler.errors import AnswerLost, NotSent
from batch_scheduler.models import ApiResult, ResultKind

K = ResultKind
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # injected "now": no dependence on the date


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    content = body.encode() if isinstance(body, str) else body
    if not isinstance(content, bytes):
        content = b"" if body is None else json.dumps(body).encode()
    return Answer(status, HTTPStatus(status).phrase, CIMultiDict(headers or {}), content)


def kind_of(response: Answer, changing: bool) -> ResultKind:
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


@pytest.mark.parametrize(
    "words",
    [
        "could not connect to the API (refused or unreachable)",
        "timed out while connecting to the API",
        "timed out waiting for a free connection to the API",
    ],
)
def test_errors_before_sending_are_retry_later_even_for_changes(words: str) -> None:
    result = transport_result(NotSent(words), changing=True)
    assert (result.kind, result.message) == (K.RETRY_LATER, words)


@pytest.mark.parametrize(
    "words",
    [
        "the connection failed while waiting for the answer",
        "no answer arrived before the timeout",
        "the connection failed while sending the request",
        "timed out while sending the request",
        "the connection was closed before an answer arrived",
        "a network error occurred (ProxyError)",
        "a network error occurred (ConnectionResetError)",
    ],
)
def test_errors_after_sending_are_unknown_for_changes(words: str) -> None:
    assert transport_result(AnswerLost(words), changing=True).kind is K.UNKNOWN
    assert transport_result(AnswerLost(words), changing=False).kind is K.RETRY_LATER


def test_transport_messages_are_plain_words() -> None:
    result = transport_result(
        AnswerLost("the connection was closed before an answer arrived"), changing=True
    )
    assert result.status_code is None
    assert result.message == (
        "the connection was closed before an answer arrived; the change may have been applied"
    )


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (ApiResult(K.RETRY_LATER, 503), "503 (service unavailable)"),
        (ApiResult(K.RETRY_LATER, 429), "429 (too many requests)"),
        (ApiResult(K.UNKNOWN, 502), "502 (bad gateway)"),
        (ApiResult(K.UNKNOWN, 599), "599 (unexpected status)"),
        (ApiResult(K.UNKNOWN, message="no answer arrived before the timeout"),
         "no answer arrived before the timeout"),
        (ApiResult(K.UNKNOWN), "no answer"),
    ],
)  # fmt: skip
def test_describe_an_answer_in_plain_words(result: ApiResult[Any], words: str) -> None:
    assert describe(result) == words
