"""The columns a sheet may have: canonical names, accepted headers, meaning, examples.

One list per kind of sheet, used by the reader (header matching), validation (rules by
kind) and the templates (friendly headers, Instructions sheet). Headers are matched after
`fold_label`. Every field also answers to its Welsh headers (i18n/welsh_input.py, the words
of each language kept in one place), in either language mode: a sheet is read as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

from batch_scheduler.i18n import N_, current_language, welsh_input
from batch_scheduler.models import SheetKind


class Kind(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    BANDWIDTH = "bandwidth"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Field:
    name: str  # canonical, the API's name (claimant fields prefixed claimant_)
    header: str  # friendly header used in templates
    kind: Kind
    description: str
    example: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    welsh: tuple[str, ...] = ()  # its Welsh headers as written: the Welsh template's first

    def spellings(self) -> tuple[str, ...]:
        """Every header accepted for this field: its name, its English headers, its Welsh
        ones (each also without accents)."""
        return (self.name, self.header, *self.aliases, *welsh_input.with_plain(self.welsh))

    def shown_header(self) -> str:
        """The header a person reading the current language knows the field by."""
        return self.welsh[0] if self.welsh and current_language() == "cy" else self.header


_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def fold_label(text: object) -> str:
    """Fold a label people type for one of ours (a header, a department name) for matching:
    Unicode-normalise, casefold, drop spaces and punctuation.

    "Claimant name", "claimant[name]", "CLAIMANT_NAME" and "Claimant\u00a0Name " all fold to
    "claimantname".
    """
    if text is None:
        return ""
    normal = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NON_ALNUM.sub("", normal)


def _bool(
    name: str, header: str, description: str, *aliases: str, example: str = N_("No")
) -> Field:
    return Field(name, header, Kind.BOOLEAN, description, example, aliases=aliases)


FEATURE_FLAGS: tuple[str, ...] = (
    "features_call_recording_enable",
    "features_breakout_room_enable",
    "features_webcam_access_agent_enable",
    "features_webcam_access_claimant_enable",
    "features_webcam_background_blurring_enable",
    "features_microphone_access_enable",
    "features_screen_sharing_enable",
    "features_messages_chat_enable",
    "features_participant_list_enable",
)

BOOK_FIELDS: tuple[Field, ...] = (
    Field(
        "reference",
        "Reference",
        Kind.TEXT,
        N_(
            "Your own reference for the appointment. Must be unique in the sheet. Leave blank and "
            "one is made from the claimant and slot (the same on every run)."
        ),
        "CASE-000123",
        aliases=("Ref", "Booking ref", "Booking reference", "Appointment reference"),
        max_length=255,
    ),
    Field(
        "appointment_at",
        "Appointment",
        Kind.DATETIME,
        N_(
            "Date and time of the appointment, as a clock in the UK shows it (or the --timezone "
            "given). Day first: 03/12/2032 14:30. Or use two columns, Appointment date and "
            "Appointment time."
        ),
        "03/12/2032 14:30",
        aliases=("Date/time", "Datetime", "Slot", "Appointment date and time", "Start", "When"),
        required=True,
    ),
    Field(
        "appointment_date",
        "Appointment date",
        Kind.DATE,
        N_("Date of the appointment, when the time is in its own column."),
        "03/12/2032",
        aliases=("Date", "Appt date"),
    ),
    Field(
        "appointment_time",
        "Appointment time",
        Kind.TIME,
        N_("Time of the appointment (24-hour clock), when the date is in its own column."),
        "14:30",
        aliases=("Time", "Appt time", "Start time"),
    ),
    Field(
        "duration_in_minutes",
        "Duration (mins)",
        Kind.INTEGER,
        N_("Length of the appointment in whole minutes, 1 to 1440. Blank: the default (30)."),
        "30",
        aliases=("Duration", "Length", "Minutes", "Duration minutes"),
    ),
    Field(
        "claimant_name",
        "Claimant name",
        Kind.TEXT,
        N_("The claimant's full name."),
        "Siân Llewelyn",
        aliases=("Name", "Full name", "Claimant", "claimant[name]", "claimant.name"),
        required=True,
        max_length=255,
    ),
    Field(
        "claimant_date_of_birth",
        "Date of birth",
        Kind.DATE,
        N_("The claimant's date of birth, day first. Optional."),
        "14/02/1985",
        aliases=("DOB", "Birth date", "claimant[date_of_birth]", "claimant.date_of_birth"),
    ),
    Field(
        "claimant_phone_number",
        "Phone",
        Kind.PHONE,
        N_(
            "The claimant's phone number; UK numbers may be written 020 7946 0123. Type it as "
            "text so Excel keeps the leading 0. Optional."
        ),
        "020 7946 0123",
        aliases=(
            "Mobile",
            "Telephone",
            "Phone number",
            "Tel",
            "claimant[phone_number]",
            "claimant.phone_number",
        ),
    ),
    Field(
        "claimant_email",
        "Email",
        Kind.EMAIL,
        N_("The claimant's email address. Optional."),
        "sian.llewelyn@example.org",
        aliases=("Email address", "E-mail", "claimant[email]", "claimant.email"),
    ),
    Field(
        "is_interpreter_needed",
        "Interpreter needed?",
        Kind.BOOLEAN,
        N_("Yes if the claimant needs an interpreter. Blank means No."),
        N_("Yes"),  # the examples make one coherent row: the language example needs it
        aliases=("Interpreter", "Interpreter needed", "Needs interpreter"),
    ),
    Field(
        "interpreter_language",
        "Interpreter language",
        Kind.TEXT,
        N_("The language the interpreter must speak. Required when an interpreter is needed."),
        N_("Welsh"),
        aliases=("Language",),
        max_length=255,
    ),
    Field(
        "department",
        "Department",
        Kind.DEPARTMENT,
        N_("The department's id, or its name as listed in the config file. Optional."),
        "1",
        aliases=("Department id", "department_id", "Team", "Dept"),
    ),
    _bool(FEATURE_FLAGS[0], "Recording", N_("Record the call."), "Call recording"),
    _bool(FEATURE_FLAGS[1], "Breakout rooms", N_("Allow breakout rooms."), "Breakout room"),
    _bool(FEATURE_FLAGS[2], "Agent webcam", N_("Allow the agent's webcam."), "Webcam agent"),
    _bool(
        FEATURE_FLAGS[3], "Claimant webcam", N_("Allow the claimant's webcam."), "Webcam claimant"
    ),
    _bool(
        FEATURE_FLAGS[4], "Background blur", N_("Allow background blurring."), "Background blurring"
    ),
    _bool(FEATURE_FLAGS[5], "Microphone", N_("Allow microphones."), "Microphone access"),
    _bool(FEATURE_FLAGS[6], "Screen sharing", N_("Allow screen sharing."), "Screen share"),
    _bool(FEATURE_FLAGS[7], "Chat", N_("Allow chat messages."), "Messages chat", "Messages"),
    _bool(FEATURE_FLAGS[8], "Participant list", N_("Show the participant list."), "Participants"),
    Field(
        "features_bandwidth",
        "Bandwidth",
        Kind.BANDWIDTH,
        N_("Video quality: low, medium or high. Blank: the default."),
        N_("medium"),
        aliases=("Video bandwidth",),
    ),
    _bool(
        "use_custom_post_call_redirect",
        "Redirect after call?",
        N_("Yes to send people to your own pages when the call ends."),
        "Redirect",
        "Custom redirect",
        "Use custom redirect",
        example=N_("Yes"),  # the redirect URL examples need it
    ),
    Field(
        "custom_user_post_call_redirect_url",
        "Claimant redirect URL",
        Kind.URL,
        N_("Where the claimant goes after the call (https only)."),
        "https://example.org/thank-you",
        aliases=("Claimant redirect", "User redirect URL", "User redirect"),
        max_length=2048,
    ),
    Field(
        "custom_agent_post_call_redirect_url",
        "Agent redirect URL",
        Kind.URL,
        N_("Where the agent goes after the call (https only)."),
        "https://example.org/agent-done",
        aliases=("Agent redirect",),
        max_length=2048,
    ),
)

CANCEL_FIELDS: tuple[Field, ...] = (
    Field(
        "appointment_id",
        "Appointment id",
        Kind.TEXT,
        N_(
            "The appointment's id (a UUID, as in the results workbook of `book`). Give this or the "
            "reference."
        ),
        "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69",
        aliases=("ID", "Appointment", "appointment_id", "Appointment uuid"),
    ),
    Field(
        "reference",
        "Reference",
        Kind.TEXT,
        N_("Your reference for the appointment, as used when it was booked. Give this or the id."),
        "CASE-000123",
        aliases=("Ref", "Booking ref", "Booking reference"),
        max_length=255,
    ),
    Field(
        "cancellation_reason",
        "Cancellation reason",
        Kind.TEXT,
        N_("Why it is cancelled (up to 255 characters). Blank: the --reason given, if any."),
        N_("Claimant asked to rebook"),
        aliases=("Reason", "Cancel reason"),
        max_length=255,
    ),
)


# ---------------------------------------------------------------- allocation sheets
# A Claimants sheet is a book sheet without the time (the allocator picks the slot) plus the
# claimant's date window; a Slots sheet lists free slots. Slot columns reuse the book's field
# names (appointment_at, duration_in_minutes, department, interpreter_language) so that the
# book's own rules check them; only their headers and descriptions differ.

_BOOK = {f.name: f for f in BOOK_FIELDS}
_SLOT_CHOSEN = frozenset(
    {"appointment_at", "appointment_date", "appointment_time", "duration_in_minutes"}
)

_BEFORE_DEPARTMENT = [f.name for f in BOOK_FIELDS].index("department")

CLAIMANT_FIELDS: tuple[Field, ...] = (
    *(f for f in BOOK_FIELDS[:_BEFORE_DEPARTMENT] if f.name not in _SLOT_CHOSEN),
    replace(
        _BOOK["department"],
        description=N_(
            "Only slots of this department are offered: its id, or its name as listed "
            "in the config file. Blank: any department."
        ),
    ),
    Field(
        "earliest_date",
        "Earliest date",
        Kind.DATE,
        N_("The first day this claimant can attend, day first. Blank: any day."),
        "01/12/2032",
        aliases=("Earliest", "Not before", "Available from", "From date", "Window start"),
    ),
    Field(
        "latest_date",
        "Latest date",
        Kind.DATE,
        N_(
            "The last day this claimant can attend (the whole day counts), day first. Blank: any "
            "day."
        ),
        "07/12/2032",
        aliases=("Latest", "Not after", "Available until", "To date", "Window end", "Deadline"),
    ),
    *BOOK_FIELDS[_BEFORE_DEPARTMENT + 1 :],
)

SLOT_FIELDS: tuple[Field, ...] = (
    Field(
        "appointment_at",
        "Start",
        Kind.DATETIME,
        N_(
            "When the slot starts, as a clock in the UK shows it (or the --timezone given). Day "
            "first: 03/12/2032 14:30. Or use two columns, Start date and Start time."
        ),
        "03/12/2032 14:30",
        aliases=("Slot", "Slot start", "Start date and time", "Date/time", "Datetime", "When"),
        required=True,
    ),
    Field(
        "appointment_date",
        "Start date",
        Kind.DATE,
        N_("The slot's date, when the time is in its own column."),
        "03/12/2032",
        aliases=("Date", "Slot date"),
    ),
    Field(
        "appointment_time",
        "Start time",
        Kind.TIME,
        N_("The slot's start time (24-hour clock), when the date is in its own column."),
        "14:30",
        aliases=("Time", "Slot time"),
    ),
    replace(
        _BOOK["duration_in_minutes"],
        description=N_("Length of the slot in whole minutes, 1 to 1440. Blank: the default (30)."),
    ),
    replace(
        _BOOK["department"],
        description=N_(
            "The department whose assessor holds the slot: its id, or its name as "
            "listed in the config file. Blank: the slot is only offered to claimants who give no "
            "department."
        ),
    ),
    Field(
        "interpreter_language",
        "Interpreter language",
        Kind.TEXT,
        N_(
            "The language of the interpreter booked for this slot, if any. Claimants who need that "
            "language can only be placed in such slots."
        ),
        N_("Welsh"),
        aliases=("Language", "Interpreter", "Language offered", "Interpreter language offered"),
        max_length=255,
    ),
    Field(
        "capacity",
        "Capacity",
        Kind.INTEGER,
        N_("How many claimants the slot can take. Blank: 1."),
        "1",
        aliases=("Places", "Spaces", "Seats", "Max claimants"),
    ),
)


def _with_welsh(fields: tuple[Field, ...], kind: SheetKind) -> tuple[Field, ...]:
    welsh = welsh_input.written(kind)
    return tuple(replace(f, welsh=welsh[f.name]) for f in fields)


BOOK_FIELDS = _with_welsh(BOOK_FIELDS, SheetKind.BOOK)
CANCEL_FIELDS = _with_welsh(CANCEL_FIELDS, SheetKind.CANCEL)
CLAIMANT_FIELDS = _with_welsh(CLAIMANT_FIELDS, SheetKind.CLAIMANTS)
SLOT_FIELDS = _with_welsh(SLOT_FIELDS, SheetKind.SLOTS)

_FIELDS: dict[SheetKind, tuple[Field, ...]] = {
    SheetKind.BOOK: BOOK_FIELDS,
    SheetKind.CANCEL: CANCEL_FIELDS,
    SheetKind.CLAIMANTS: CLAIMANT_FIELDS,
    SheetKind.SLOTS: SLOT_FIELDS,
}


def fields_for(kind: str) -> tuple[Field, ...]:
    """The field list for a sheet kind (a SheetKind, or its value: "book", "cancel", ...)."""
    try:
        return _FIELDS[SheetKind(kind)]
    except ValueError:
        raise ValueError(f"unknown sheet kind {kind!r}") from None
