"""The API's names for our fields, in both body formats, and back again.

The create body is the vendor's flat form (`claimant[name]`, `department`) or the documented
JSON shape (`claimant.name` nested, `department_id`); a 422 answer names a refused field as
the body it refused did (nested ones in dot notation). This is the one map between those
names and the sheet's fields: validate.cell_of reads a 422's field names back onto the sheet's
cells by it, and a test holds api/resource.py's bodies to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from batch_scheduler.columns.fields import FEATURE_FLAGS

# Options are sent under the sheet's own field names (AppointmentRequest.options' keys).
OPTION_FIELDS: tuple[str, ...] = (
    *FEATURE_FLAGS,
    "features_bandwidth",
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
)


class ApiName(NamedTuple):
    """A field's name in the JSON body (dot notation when nested) and in the form body."""

    json: str
    form: str


def _same(name: str) -> ApiName:
    return ApiName(name, name)


API_NAMES: Mapping[str, ApiName] = {
    "reference": _same("reference"),
    "appointment_at": _same("appointment_at"),
    "duration_in_minutes": _same("duration_in_minutes"),
    "claimant_name": ApiName("claimant.name", "claimant[name]"),
    "claimant_date_of_birth": ApiName("claimant.date_of_birth", "claimant[date_of_birth]"),
    "claimant_phone_number": ApiName("claimant.phone_number", "claimant[phone_number]"),
    "claimant_email": ApiName("claimant.email", "claimant[email]"),
    "is_interpreter_needed": _same("is_interpreter_needed"),
    "interpreter_language": _same("interpreter_language"),
    "department": ApiName("department_id", "department"),
    "cancellation_reason": _same("cancellation_reason"),
    **{name: _same(name) for name in OPTION_FIELDS},
}
_FIELD_OF = {name: field for field, api in API_NAMES.items() for name in api}


def field_named(api_name: str) -> str | None:
    """The sheet's field the API means by `api_name` (either body format); None when it names
    none of ours (a whole object, "claimant", or a field we never send)."""
    return _FIELD_OF.get(api_name)
