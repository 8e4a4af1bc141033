"""The Appointment resource in both directions: request bodies out, tolerant parsing in.

Parsing follows the API contract's advice: ignore unknown fields, tolerate missing optional
fields and nulls, accept an integer `reference`, and read timestamps with any number of
fraction digits and `Z` or an offset. Only `id` is required: without it nothing can be done
with the appointment, so its absence is a `ResourceError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from batch_scheduler.config import BodyFormat
from batch_scheduler.errors import ResourceError
from batch_scheduler.models import Appointment, AppointmentRequest, Meeting, Page

_CORE_FIELDS = frozenset(
    {
        "reference",
        "appointment_at",
        "duration_in_minutes",
        "is_interpreter_needed",
        "interpreter_language",
        "department",
        "department_id",
        "claimant",
    }
)


# ---------------------------------------------------------------- out: request bodies


def format_utc(moment: datetime) -> str:
    """An aware datetime as explicit UTC, `YYYY-MM-DDTHH:MM:SSZ`.

    The API takes a naive time as UTC, so sending wall-clock time would silently shift the
    appointment: a naive datetime here is a programming error, not bad data.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("appointment_at must be timezone-aware (it is sent as UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_body(request: AppointmentRequest, body_format: BodyFormat) -> dict[str, Any]:
    """The create body: the vendor's flat form (all strings) or the documented JSON shape."""
    clashes = _CORE_FIELDS.intersection(request.options)
    if clashes:
        raise ValueError(f"options may not override core fields: {sorted(clashes)}")
    if body_format is BodyFormat.JSON:
        return _json_body(request)
    return _form_body(request)


def _json_body(request: AppointmentRequest) -> dict[str, Any]:
    claimant = request.claimant
    claimant_body = {
        "name": claimant.name,
        "date_of_birth": claimant.date_of_birth.isoformat() if claimant.date_of_birth else None,
        "phone_number": claimant.phone_number,
        "email": claimant.email,
    }
    body: dict[str, Any] = {
        "reference": request.reference,
        "appointment_at": format_utc(request.appointment_at),
        "duration_in_minutes": request.duration_in_minutes,
        "is_interpreter_needed": request.is_interpreter_needed,
        "interpreter_language": request.interpreter_language,
        "department_id": request.department_id,
        "claimant": _without_none(claimant_body),
        **request.options,
    }
    return _without_none(body)


def _form_body(request: AppointmentRequest) -> dict[str, Any]:
    """The JSON body flattened the vendor's way (as in its example): bracket keys for the
    claimant, `department` for department_id, and every value a string."""
    flat: dict[str, Any] = {}
    for key, value in _json_body(request).items():
        if key == "claimant":
            flat.update({f"claimant[{name}]": _form_value(v) for name, v in value.items()})
        else:
            flat[_FORM_NAMES.get(key, key)] = _form_value(value)
    return flat


_FORM_NAMES = {"department_id": "department"}


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _without_none(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}


# ---------------------------------------------------------------- in: tolerant parsing


def parse_datetime(value: object) -> datetime | None:
    """An API timestamp as an aware UTC datetime; None when absent or unreadable.

    Fractions beyond microseconds are truncated; a naive timestamp is taken as UTC, as the
    API itself does.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    return None


def _meeting(value: object) -> Meeting | None:
    if not isinstance(value, Mapping):
        return None
    return Meeting(
        id=_integer(value.get("id")),
        room_name=_text(value.get("room_name")),
        room_url=_text(value.get("room_url")),
        start_date=parse_datetime(value.get("start_date")),
        end_date=parse_datetime(value.get("end_date")),
    )


def parse_appointment(data: Mapping[str, Any]) -> Appointment:
    """One Appointment from the API's JSON (or the ledger's stored copy of it)."""
    if not isinstance(data, Mapping):
        raise ResourceError("an appointment must be a JSON object")
    appointment_id = _text(data.get("id"))
    if not appointment_id:
        raise ResourceError("the appointment has no id")
    department = data.get("department")
    department = department if isinstance(department, Mapping) else {}
    claimant = data.get("claimant")
    claimant = claimant if isinstance(claimant, Mapping) else {}
    return Appointment(
        id=appointment_id,
        reference=_text(data.get("reference")),
        appointment_at=parse_datetime(data.get("appointment_at")),
        duration_in_minutes=_integer(data.get("duration_in_minutes")),
        status=_text(data.get("status")),
        url=_text(data.get("url")),
        claimant_name=_text(claimant.get("name")),
        created_at=parse_datetime(data.get("created_at")),
        cancelled_at=parse_datetime(data.get("cancelled_at")),
        cancellation_reason=_text(data.get("cancellation_reason")),
        is_interpreter_needed=_boolean(data.get("is_interpreter_needed")),
        interpreter_language=_text(data.get("interpreter_language")),
        department_id=_integer(department.get("id", data.get("department_id"))),
        department_name=_text(department.get("name")),
        meeting=_meeting(data.get("meeting")),
        raw=data,
    )


def parse_single(body: object) -> Appointment:
    """`{"data": Appointment}` (a bare Appointment object is accepted too)."""
    if isinstance(body, Mapping) and isinstance(body.get("data"), Mapping):
        return parse_appointment(body["data"])
    if isinstance(body, Mapping):
        return parse_appointment(body)
    raise ResourceError("the answer is not a JSON object")


def parse_page(body: object, requested_page: int) -> Page:
    """A list answer: Laravel's `{data, links, meta}` envelope, or the plain paginator.

    Items without an id are skipped (nothing can be done with them). When the last page
    is not given, an absent `links.next` marks this page as the last one.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise ResourceError("the list answer has no 'data' list")
    meta = body.get("meta")
    meta = meta if isinstance(meta, Mapping) else body
    items = tuple(
        parse_appointment(item)
        for item in body["data"]
        if isinstance(item, Mapping) and _text(item.get("id"))
    )
    current = _integer(meta.get("current_page")) or requested_page
    last = _integer(meta.get("last_page"))
    links = body.get("links")
    if last is None and isinstance(links, Mapping) and "next" in links and not links["next"]:
        last = current
    return Page(
        items=items, current_page=current, last_page=last, total=_integer(meta.get("total"))
    )
