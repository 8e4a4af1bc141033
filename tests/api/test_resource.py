"""Request bodies and tolerant parsing of the Appointment resource."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from batch_scheduler.api import parse_appointment
from batch_scheduler.api.resource import (
    format_utc,
    parse_datetime,
    parse_page,
    parse_single,
    request_body,
)
from batch_scheduler.config import BodyFormat
from batch_scheduler.errors import ResourceError
from batch_scheduler.models import AppointmentRequest, ClaimantIn

AT = datetime(2030, 6, 1, 15, 30, tzinfo=UTC)  # a value to encode, not "now": never stale


def full_request(**overrides: object) -> AppointmentRequest:
    values: dict[str, object] = {
        "reference": "CASE-000123",
        "appointment_at": AT,
        "duration_in_minutes": 30,
        "claimant": ClaimantIn("Ada Lovelace", date(1990, 12, 10), "+447700900123", "a@x.org"),
        "is_interpreter_needed": True,
        "interpreter_language": "Welsh",
        "department_id": 2,
        "options": {"features_call_recording_enable": False, "features_bandwidth": "high"},
    }
    values.update(overrides)
    return AppointmentRequest(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- bodies


def test_form_body_matches_the_vendor_example() -> None:
    assert request_body(full_request(), BodyFormat.FORM) == {
        "reference": "CASE-000123",
        "appointment_at": "2030-06-01T15:30:00Z",
        "duration_in_minutes": "30",
        "is_interpreter_needed": "true",
        "interpreter_language": "Welsh",
        "department": "2",
        "claimant[name]": "Ada Lovelace",
        "claimant[date_of_birth]": "1990-12-10",
        "claimant[phone_number]": "+447700900123",
        "claimant[email]": "a@x.org",
        "features_call_recording_enable": "false",
        "features_bandwidth": "high",
    }


def test_form_body_omits_none_and_sends_false_as_text() -> None:
    request = full_request(
        claimant=ClaimantIn("Bo"),
        is_interpreter_needed=False,
        interpreter_language=None,
        department_id=None,
        options={},
    )
    assert request_body(request, BodyFormat.FORM) == {
        "reference": "CASE-000123",
        "appointment_at": "2030-06-01T15:30:00Z",
        "duration_in_minutes": "30",
        "is_interpreter_needed": "false",
        "claimant[name]": "Bo",
    }


def test_json_body_is_nested_and_typed() -> None:
    assert request_body(full_request(), BodyFormat.JSON) == {
        "reference": "CASE-000123",
        "appointment_at": "2030-06-01T15:30:00Z",
        "duration_in_minutes": 30,
        "is_interpreter_needed": True,
        "interpreter_language": "Welsh",
        "department_id": 2,
        "claimant": {
            "name": "Ada Lovelace",
            "date_of_birth": "1990-12-10",
            "phone_number": "+447700900123",
            "email": "a@x.org",
        },
        "features_call_recording_enable": False,
        "features_bandwidth": "high",
    }


def test_json_body_omits_none() -> None:
    request = full_request(claimant=ClaimantIn("Bo"), interpreter_language=None, department_id=None)
    body = request_body(request, BodyFormat.JSON)
    assert body["claimant"] == {"name": "Bo"}
    assert "interpreter_language" not in body and "department_id" not in body


@pytest.mark.parametrize("body_format", list(BodyFormat))
def test_times_are_sent_as_explicit_utc(body_format: BodyFormat) -> None:
    # 10:00 London summer time is 09:00 UTC; the API would read a naive time as UTC
    london = datetime(2030, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    body = request_body(full_request(appointment_at=london), body_format)
    assert body["appointment_at"] == "2030-07-01T09:00:00Z"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        request_body(full_request(appointment_at=datetime(2030, 1, 1, 9)), BodyFormat.FORM)


def test_options_cannot_override_core_fields() -> None:
    with pytest.raises(ValueError, match="reference"):
        request_body(full_request(options={"reference": "x"}), BodyFormat.FORM)


def test_format_utc_converts_offsets() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_utc(datetime(2030, 1, 1, 1, 0, 59, 999, tzinfo=plus_two)) == (
        "2029-12-31T23:00:59Z"
    )


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "text",
    [
        "2025-08-19T16:50:00Z",
        "2025-08-19T16:50:00.000Z",
        "2025-08-19T16:50:00.000000Z",
        "2025-08-19T17:50:00.000000+01:00",
        "2025-08-19T16:50:00",  # naive: the API means UTC
    ],
)
def test_timestamps_in_every_shape_become_utc(text: str) -> None:
    moment = parse_datetime(text)
    assert moment == datetime(2025, 8, 19, 16, 50, tzinfo=UTC)
    assert moment is not None and moment.utcoffset() == timedelta(0)


def test_more_than_six_fraction_digits_are_truncated() -> None:
    assert parse_datetime("2025-08-19T16:50:00.123456789Z") == datetime(
        2025, 8, 19, 16, 50, 0, 123456, tzinfo=UTC
    )


@pytest.mark.parametrize("value", [None, "", "not a date", 12, {"x": 1}])
def test_unreadable_timestamps_are_none(value: object) -> None:
    assert parse_datetime(value) is None


# ---------------------------------------------------------------- the resource

FULL = {
    "id": "9f1c2d7e-0000-4000-8000-000000000001",
    "reference": "CASE-1",
    "appointment_at": "2025-08-19T16:50:00.000000Z",
    "duration_in_minutes": 30,
    "is_interpreter_needed": False,
    "interpreter_language": None,
    "status": "scheduled",
    "url": "https://x.example/client-web/schedule/pre-call/summary?reference=CASE-1",
    "created_at": "2025-08-01T10:00:00.000000Z",
    "cancelled_at": None,
    "cancellation_reason": None,
    "department": {"id": 1, "name": "Benefits"},
    "claimant": {"name": "Ada", "data": []},
    "meeting": {
        "id": 77,
        "room_name": "room-77",
        "room_url": "https://x.example/room/77?roomKey=secret",
        "start_date": "2025-08-19T16:50:00.000Z",
        "end_date": "2025-08-19T17:20:00.000Z",
    },
    "something_new": {"the": "vendor added this"},
}


def test_full_appointment_is_parsed() -> None:
    appointment = parse_appointment(FULL)
    assert appointment.id == FULL["id"]
    assert appointment.reference == "CASE-1"
    assert appointment.appointment_at == datetime(2025, 8, 19, 16, 50, tzinfo=UTC)
    assert appointment.duration_in_minutes == 30
    assert appointment.status == "scheduled"
    assert appointment.url == FULL["url"]
    assert appointment.created_at == datetime(2025, 8, 1, 10, tzinfo=UTC)
    assert appointment.is_interpreter_needed is False
    assert (appointment.department_id, appointment.department_name) == (1, "Benefits")
    assert appointment.meeting is not None and appointment.meeting.id == 77
    assert appointment.host_url == "https://x.example/room/77?roomKey=secret"
    assert appointment.meeting.end_date == datetime(2025, 8, 19, 17, 20, tzinfo=UTC)
    assert appointment.raw == FULL


def test_minimal_appointment_with_nulls_and_int_reference() -> None:
    appointment = parse_appointment(
        {"id": "a1", "reference": 12345, "department": None, "duration_in_minutes": "45"}
    )
    assert appointment.reference == "12345"
    assert appointment.duration_in_minutes == 45
    assert appointment.department_id is None and appointment.department_name is None
    assert appointment.meeting is None and appointment.host_url is None
    assert appointment.appointment_at is None and appointment.status is None


def test_raw_is_kept_for_the_ledger_and_reparses_equal() -> None:
    first = parse_appointment(FULL)
    assert parse_appointment(first.raw) == first


@pytest.mark.parametrize("data", [{}, {"id": None}, {"id": ""}, {"reference": "x"}, ["id"]])
def test_an_appointment_without_id_is_refused(data: object) -> None:
    with pytest.raises(ResourceError):
        parse_appointment(data)  # type: ignore[arg-type]


def test_single_answer_is_unwrapped() -> None:
    assert parse_single({"data": FULL}).id == FULL["id"]
    with pytest.raises(ResourceError):
        parse_single("<html>")


def test_laravel_page_is_parsed() -> None:
    body = {
        "data": [FULL, {"id": "b2", "reference": 7}, {"no": "id"}],
        "links": {"next": "http://x/api/v1/appointments?page=3"},
        "meta": {"current_page": 2, "last_page": 5, "per_page": 3, "total": 14},
    }
    page = parse_page(body, requested_page=2)
    assert [item.id for item in page.items] == [FULL["id"], "b2"]
    assert (page.current_page, page.last_page, page.total) == (2, 5, 14)


def test_page_without_meta_uses_links_next_to_find_the_end() -> None:
    page = parse_page({"data": [], "links": {"next": None}}, requested_page=4)
    assert (page.current_page, page.last_page, page.total) == (4, 4, None)
    unknown = parse_page({"data": []}, requested_page=4)
    assert unknown.last_page is None


def test_page_without_data_list_is_refused() -> None:
    with pytest.raises(ResourceError):
        parse_page({"data": {"id": "x"}}, requested_page=1)
