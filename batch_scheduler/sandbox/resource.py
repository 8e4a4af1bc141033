"""The stored appointment and its JSON shape (the API's Appointment resource).

Links are rendered per request from the base URL the client used, as a real server would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from batch_scheduler.columns import FEATURE_FLAGS
from batch_scheduler.sandbox.validation import FEATURE_DEFAULTS, URL_FIELDS

OPTION_DEFAULTS: dict[str, Any] = {
    **FEATURE_DEFAULTS,
    "features_bandwidth": None,
    "use_custom_post_call_redirect": False,
    **dict.fromkeys(URL_FIELDS),
}


def stamp(moment: datetime | None) -> str | None:
    """'2025-08-19T16:50:00.000000Z', Laravel's default JSON date format."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class AppointmentRecord:
    """One stored appointment. Mutated only by the store, under its lock."""

    id: str
    reference: str | None
    appointment_at: datetime
    duration_in_minutes: int
    created_at: datetime
    meeting_id: int
    room_name: str
    room_key: str
    claimant: dict[str, Any]
    department: tuple[int, str] | None = None
    is_interpreter_needed: bool = False
    interpreter_language: str | None = None
    status: str = "scheduled"
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    options: dict[str, Any] = field(default_factory=lambda: dict(OPTION_DEFAULTS))
    messages: list[dict[str, Any]] = field(default_factory=list)

    def render(self, base: str) -> dict[str, Any]:
        """The resource as the API returns it; `base` is the server's URL as the client saw it."""
        end = self.appointment_at + timedelta(minutes=self.duration_in_minutes)
        reference = "" if self.reference is None else self.reference
        return {
            "id": self.id,
            "reference": self.reference,
            "appointment_at": stamp(self.appointment_at),
            "duration_in_minutes": self.duration_in_minutes,
            "is_interpreter_needed": self.is_interpreter_needed,
            "interpreter_language": self.interpreter_language,
            "status": self.status,
            "url": f"{base}/client-web/schedule/pre-call/summary?reference="
            + quote(reference, safe=""),
            "created_at": stamp(self.created_at),
            "cancelled_at": stamp(self.cancelled_at),
            "cancellation_reason": self.cancellation_reason,
            "department": _department(self.department),
            "claimant": {
                "name": self.claimant.get("name"),
                "date_of_birth": self.claimant.get("date_of_birth"),
                "phone_number": self.claimant.get("phone_number"),
                "email": self.claimant.get("email"),
                "data": [],
            },
            "meeting": {
                "id": self.meeting_id,
                "room_name": self.room_name,
                "room_url": f"{base}/meeting/{self.room_name}?roomKey={self.room_key}",
                "start_date": stamp(self.appointment_at),
                "end_date": stamp(end),
            },
            "session_started_at": None,
            "session_ended_at": None,
            "on_hold_started_at": None,
            "on_hold_ended_at": None,
            **{flag: self.options[flag] for flag in FEATURE_FLAGS},
            "features_bandwidth": self.options["features_bandwidth"],
            "use_custom_post_call_redirect": self.options["use_custom_post_call_redirect"],
            **{name: self.options[name] for name in URL_FIELDS},
        }


def _department(department: tuple[int, str] | None) -> dict[str, Any] | None:
    return None if department is None else {"id": department[0], "name": department[1]}
