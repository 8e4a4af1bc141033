"""Input rules for create and update, answered the way Laravel's validator words them.

Messages follow Laravel's defaults: "The <attribute> field is required.", with underscores in
the attribute shown as spaces. Errors are keyed by field in dot notation (`claimant.email`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from batch_scheduler.columns import FEATURE_FLAGS

BANDWIDTHS = ("low", "medium", "high")
PATCH_STATUSES = ("scheduled", "waiting")
FEATURE_DEFAULTS: Mapping[str, bool] = {
    "features_call_recording_enable": False,
    "features_breakout_room_enable": False,
    "features_webcam_access_agent_enable": True,
    "features_webcam_access_claimant_enable": True,
    "features_webcam_background_blurring_enable": False,
    "features_microphone_access_enable": True,
    "features_screen_sharing_enable": False,
    "features_messages_chat_enable": True,
    "features_participant_list_enable": True,
}
URL_FIELDS = ("custom_user_post_call_redirect_url", "custom_agent_post_call_redirect_url")
_INT = re.compile(r"[+-]?\d+")
_YMD = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = ("true", "1")
_FALSE = ("false", "0")

Errors = dict[str, list[str]]

T = TypeVar("T")


def _attr(name: str) -> str:
    return name.replace("_", " ")


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 or 'YYYY-MM-DD HH:MM:SS', any fraction, Z or an offset; naive means UTC."""
    if not isinstance(value, str):
        return None
    text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_bool(value: object) -> bool | None:
    """True/false, 1/0 and their strings; anything else is None (not a boolean)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    return None


def parse_int(value: object) -> int | None:
    """An integer as Laravel's `integer` rule takes it. Like every rule here, it is the
    server's own, never the client's parsing (api/resource.py): a stand-in sharing the
    client's code would agree with the client's mistakes, and no test could see them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    return None


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def _is_email(value: str) -> bool:
    """email-validator's verdict (a tenth of the sandbox's CPU per create, most of it on the
    domain); a plain address whose domain already passed is accepted without asking again:
    its local part is dot-atom text (RFC 5322) of allowed length, all that is left to check.
    """
    local, _, domain = value.rpartition("@")
    if domain in _GOOD_DOMAINS and _PLAIN_ADDRESS(value) and _fits(local, value):
        return True
    try:
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    if _PLAIN_ADDRESS(value) and len(_GOOD_DOMAINS) < 10_000:
        _GOOD_DOMAINS.add(domain)
    return True


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9.-]+").fullmatch
_GOOD_DOMAINS: set[str] = set()  # domains email-validator accepted in a plain address


def _fits(local: str, address: str) -> bool:
    """email-validator's length limits: 64 before the @, 254 in all."""
    return len(local) <= 64 and len(address) <= 254


class _Validator:
    """Checks one input mapping; `partial` (PATCH) checks only the fields given."""

    def __init__(self, data: Mapping[str, Any], *, partial: bool) -> None:
        self.data = data
        self.partial = partial
        self.errors: Errors = {}
        self.out: dict[str, Any] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def given(self, source: Mapping[str, Any], key: str) -> bool:
        return key in source or not self.partial

    def required(self, name: str, value: object) -> bool:
        if value is None:
            self.fail(name, f"The {_attr(name)} field is required.")
            return False
        return True

    def text(self, name: str, value: object, max_length: int = 255) -> str | None:
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fail(name, f"The {_attr(name)} field must be a string.")
            return None
        if len(value) > max_length:
            self.fail(
                name, f"The {_attr(name)} field must not be greater than {max_length} characters."
            )
            return None
        return value

    def parsed(self, name: str, parse: Callable[[Any], T | None], kind: str) -> T | None:
        """A required field, parsed; else None and the field's error ("must be {kind}")."""
        raw = self.data.get(name)
        if not self.required(name, raw):
            return None
        value = parse(raw)
        if value is None:
            self.fail(name, f"The {_attr(name)} field must be {kind}.")
        return value

    def boolean(self, name: str, value: object) -> bool | None:
        if value is None:
            return None
        parsed = parse_bool(value)
        if parsed is None:
            self.fail(name, f"The {_attr(name)} field must be true or false.")
        return parsed


def _check_top(v: _Validator, departments: Mapping[int, str]) -> None:
    data = v.data
    if v.given(data, "reference"):
        v.out["reference"] = v.text("reference", data.get("reference"))
    if v.given(data, "appointment_at"):
        v.out["appointment_at"] = v.parsed("appointment_at", parse_datetime, "a valid date")
    if v.given(data, "duration_in_minutes"):
        minutes = v.parsed("duration_in_minutes", parse_int, "an integer")
        if minutes is not None and not 1 <= minutes <= 1440:
            v.fail(
                "duration_in_minutes", "The duration in minutes field must be between 1 and 1440."
            )
        v.out["duration_in_minutes"] = minutes
    _check_department(v, departments)


def _check_department(v: _Validator, departments: Mapping[int, str]) -> None:
    for key in ("department_id", "department"):
        if key not in v.data:
            continue
        raw = v.data[key]
        ident = parse_int(raw)
        if raw is not None and (ident is None or ident not in departments):
            v.fail(key, f"The selected {_attr(key)} is invalid.")
        v.out["department_id"] = ident
        return
    if not v.partial:
        v.out["department_id"] = None


def _check_options(v: _Validator) -> None:
    data = v.data
    for flag in ("is_interpreter_needed", *FEATURE_FLAGS, "use_custom_post_call_redirect"):
        if flag in data:
            parsed = v.boolean(flag, data[flag])
            if parsed is not None:
                v.out[flag] = parsed
    if v.given(data, "interpreter_language"):
        v.out["interpreter_language"] = v.text(
            "interpreter_language", data.get("interpreter_language")
        )
    if v.given(data, "features_bandwidth"):
        band = data.get("features_bandwidth")
        if band is not None and band not in BANDWIDTHS:
            v.fail("features_bandwidth", "The selected features bandwidth is invalid.")
        v.out["features_bandwidth"] = band if band in BANDWIDTHS else None
    for name in URL_FIELDS:
        if v.given(data, name):
            url = v.text(name, data.get(name), 2048)
            if url is not None and not _is_url(url):
                v.fail(name, f"The {_attr(name)} field must be a valid URL.")
            v.out[name] = url


def _check_claimant(v: _Validator, today: date) -> None:
    raw = v.data.get("claimant")
    if v.partial and "claimant" not in v.data:
        return
    if raw is not None and not isinstance(raw, dict):
        v.fail("claimant", "The claimant field must be an array.")
        raw = {}
    person: Mapping[str, Any] = raw or {}
    out: dict[str, Any] = {}
    if v.given(person, "name"):
        name = person.get("name")
        if v.required("claimant.name", name):
            out["name"] = v.text("claimant.name", name)
    if v.given(person, "date_of_birth"):
        out["date_of_birth"] = _date_of_birth(v, person.get("date_of_birth"), today)
    if v.given(person, "phone_number"):
        out["phone_number"] = v.text("claimant.phone_number", person.get("phone_number"))
    if v.given(person, "email"):
        email = v.text("claimant.email", person.get("email"))
        if email is not None and not _is_email(email):
            v.fail("claimant.email", "The claimant.email field must be a valid email address.")
        out["email"] = email
    v.out["claimant"] = out


def _date_of_birth(v: _Validator, raw: object, today: date) -> str | None:
    name = "claimant.date_of_birth"
    if raw is None:
        return None
    try:
        born = date.fromisoformat(raw) if isinstance(raw, str) and _YMD.fullmatch(raw) else None
    except ValueError:
        born = None
    if born is None:
        v.fail(name, f"The {_attr(name)} field must match the format Y-m-d.")
        return None
    if born >= today:
        v.fail(name, f"The {_attr(name)} field must be a date before today.")
        return None
    return born.isoformat()


def _interpreter_rule(v: _Validator, current: Mapping[str, Any]) -> None:
    """interpreter_language is required when is_interpreter_needed is (or stays) true."""
    needed = v.out.get("is_interpreter_needed", current.get("is_interpreter_needed", False))
    language = v.out.get("interpreter_language", current.get("interpreter_language"))
    if needed and language is None and "interpreter_language" not in v.errors:
        v.fail(
            "interpreter_language",
            "The interpreter language field is required when is interpreter needed is true.",
        )


def validate_create(
    data: Mapping[str, Any], departments: Mapping[int, str], today: date
) -> tuple[dict[str, Any], Errors]:
    """Clean values for a new appointment (absent options left out), and the errors found."""
    v = _Validator(data, partial=False)
    _check_top(v, departments)
    _check_claimant(v, today)
    _check_options(v)
    _interpreter_rule(v, {})
    return v.out, v.errors


def validate_update(
    data: Mapping[str, Any],
    departments: Mapping[int, str],
    today: date,
    current: Mapping[str, Any],
) -> tuple[dict[str, Any], Errors]:
    """Clean values for the fields a PATCH gives, and the errors found.

    `current` holds the stored values the cross-field rule needs (is_interpreter_needed,
    interpreter_language)."""
    v = _Validator(data, partial=True)
    _check_top(v, departments)
    _check_claimant(v, today)
    _check_options(v)
    if "status" in data:
        status = data["status"]
        if status not in PATCH_STATUSES:
            v.fail("status", "The selected status is invalid.")
        else:
            v.out["status"] = status
    _interpreter_rule(v, current)
    return v.out, v.errors


def error_body(errors: Errors) -> dict[str, Any]:
    """Laravel's 422 body: the first message, '(and N more errors)', and every error."""
    messages = [m for field_messages in errors.values() for m in field_messages]
    message = messages[0]
    extra = len(messages) - 1
    if extra:
        message += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return {"message": message, "errors": errors}
