"""api_names.py: the one map between the API's field names and the sheet's fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from batch_scheduler.api.resource import request_body
from batch_scheduler.columns import API_NAMES, OPTION_FIELDS, field_named
from batch_scheduler.config import BodyFormat
from batch_scheduler.models import AppointmentRequest, ClaimantIn

EVERYTHING = AppointmentRequest(
    reference="CASE-1",
    appointment_at=datetime(2026, 7, 14, 13, 30, tzinfo=UTC),
    duration_in_minutes=30,
    claimant=ClaimantIn("Siân", date(1985, 2, 14), "+447400123456", "sian@example.org"),
    is_interpreter_needed=True,
    interpreter_language="Welsh",
    department_id=2,
    options={name: "https://example.org" if "url" in name else True for name in OPTION_FIELDS},
)


def _flat(body: dict[str, Any], prefix: str = "") -> set[str]:
    """A JSON body's field names as a 422 names them: nested ones in dot notation."""
    names: set[str] = set()
    for key, value in body.items():
        names |= _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return names


@pytest.mark.parametrize("body_format", list(BodyFormat))
def test_every_name_a_create_body_uses_is_the_maps(body_format: BodyFormat) -> None:
    """api/resource.py writes the bodies: a name it sends that the map does not know would
    put the API's 422 for that field on no cell."""
    sent = _flat(request_body(EVERYTHING, body_format))
    side = "json" if body_format is BodyFormat.JSON else "form"
    mapped = {getattr(names, side) for field, names in API_NAMES.items()}
    assert sent == mapped - {getattr(API_NAMES["cancellation_reason"], side)}


def test_each_api_name_names_one_field() -> None:
    for field, names in API_NAMES.items():
        assert {field_named(names.json), field_named(names.form)} == {field}
    assert field_named("claimant") is None
