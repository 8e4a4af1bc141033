"""Small immutable data shared by the stages: issues, requests, API answers, outcomes.

Nothing here touches files or the network. Every stage takes and returns these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, TypeVar

from batch_scheduler.i18n import _

T = TypeVar("T")


# ---------------------------------------------------------------- issues (problems in rows)


class Severity(StrEnum):
    ERROR = "error"  # blocks the row
    WARNING = "warning"  # reported, the row still goes


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in the input, phrased for the person who will fix the sheet.

    `row` is the Excel-visible row number (header = row 1); None for a file-level issue.
    `column` is the column letter ("C"), `header` the header text as written in the sheet.
    `code` is stable (documented in README); `message` is a full sentence.
    """

    code: str
    severity: Severity
    message: str
    row: int | None = None
    column: str | None = None
    header: str | None = None
    value: str | None = None
    field: str | None = None  # canonical field name, when the issue is about one

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        """'Row 14, column C (Appointment)', 'Column H (Notes)' or 'The file' (in the current
        language)."""
        parts = []
        if self.row is not None:
            parts.append(_("Row {row}").format(row=self.row))
        if self.column is not None:
            label = _("column {letter}") if parts else _("Column {letter}")
            label = label.format(letter=self.column)
            parts.append(f"{label} ({self.header})" if self.header else label)
        return ", ".join(parts) if parts else _("The file")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# ---------------------------------------------------------------- requests (API-ready values)


@dataclass(frozen=True, slots=True)
class ClaimantIn:
    name: str
    date_of_birth: date | None = None
    phone_number: str | None = None  # E.164
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AppointmentRequest:
    """An appointment to create, already normalised: times are UTC-aware, phones E.164.

    `options` holds the optional API fields that were given or defaulted, by their API
    names: the nine features_* booleans, features_bandwidth ("low"/"medium"/"high"),
    use_custom_post_call_redirect, custom_user_post_call_redirect_url,
    custom_agent_post_call_redirect_url. Absent keys are not sent.
    """

    reference: str
    appointment_at: datetime  # timezone-aware, UTC
    duration_in_minutes: int
    claimant: ClaimantIn
    is_interpreter_needed: bool = False
    interpreter_language: str | None = None
    department_id: int | None = None
    options: Mapping[str, bool | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """An appointment to cancel, named by id, by reference, or both."""

    appointment_id: str | None
    reference: str | None
    cancellation_reason: str | None = None


# ---------------------------------------------------------------- the API's resource


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int | None
    room_name: str | None
    room_url: str | None = field(repr=False)  # grants HOST rights: never shown unless asked for
    start_date: datetime | None
    end_date: datetime | None


@dataclass(frozen=True, slots=True)
class Appointment:
    """The API's Appointment, parsed tolerantly (unknown fields ignored, optional ones None)."""

    id: str
    reference: str | None
    appointment_at: datetime | None
    duration_in_minutes: int | None
    status: str | None
    url: str | None  # the claimant's link
    claimant_name: str | None = None  # to tell our booking from another one with its reference
    created_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    is_interpreter_needed: bool | None = None
    interpreter_language: str | None = None
    department_id: int | None = None
    department_name: str | None = None
    meeting: Meeting | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def host_url(self) -> str | None:
        return self.meeting.room_url if self.meeting else None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the list endpoint."""

    items: tuple[Appointment, ...]
    current_page: int
    last_page: int | None
    total: int | None


# ---------------------------------------------------------------- classified API answers


class ResultKind(StrEnum):
    SUCCESS = "success"
    REJECTED = "rejected"  # final 4xx: the request itself is wrong (422 field errors, 404, ...)
    RETRY_LATER = "retry_later"  # 429 (with retry_after), 503: nothing was done, try again
    UNKNOWN = "unknown"  # 500/502/504 or transport error after sending: may have been applied
    FATAL = "fatal"  # 401 after renewal, 403: stop the run


@dataclass(frozen=True, slots=True)
class ApiResult(Generic[T]):
    """What one API call came to. The client never raises for an HTTP answer; it classifies."""

    kind: ResultKind
    status_code: int | None = None  # None when no HTTP answer arrived
    value: T | None = None
    message: str | None = None  # the API's message, or a description of the transport error
    field_errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    retry_after: float | None = None  # seconds, from Retry-After

    @property
    def ok(self) -> bool:
        return self.kind is ResultKind.SUCCESS


# ---------------------------------------------------------------- outcomes per row


class Outcome(StrEnum):
    CREATED = "created"
    ALREADY_EXISTS = "already_exists"
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    NOTHING_TO_CANCEL = "nothing_to_cancel"  # cancel: the row's booking never happened
    CONFLICT = "conflict"  # book: the reference is taken by another (or cancelled) appointment
    INVALID = "invalid"
    REJECTED = "rejected"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"
    WOULD_CREATE = "would_create"
    WOULD_CANCEL = "would_cancel"
    VALID = "valid"  # `validate` reports only

    @property
    def is_success(self) -> bool:
        return self in _GOOD


_GOOD = frozenset(
    {
        Outcome.CREATED,
        Outcome.ALREADY_EXISTS,
        Outcome.CANCELLED,
        Outcome.ALREADY_CANCELLED,
        Outcome.NOTHING_TO_CANCEL,
        Outcome.WOULD_CREATE,
        Outcome.WOULD_CANCEL,
        Outcome.VALID,
    }
)


@dataclass(frozen=True, slots=True)
class RowResult:
    """What happened to one input row when it was sent (or why it was not)."""

    outcome: Outcome
    appointment: Appointment | None = None
    error: str | None = None
    attempts: int = 0
    field_errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# ---------------------------------------------------------------- the input table and the results


class SheetKind(StrEnum):
    """What a sheet holds, which decides the columns it may have (columns.fields_for)."""

    BOOK = "book"  # appointments to book
    CANCEL = "cancel"  # appointments to cancel (or a results workbook of `book`)
    CLAIMANTS = "claimants"  # allocate: the people to place
    SLOTS = "slots"  # allocate: the free slots


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where the rows came from, for the Summary sheet (never the file's contents)."""

    path: str
    name: str
    sha256: str
    size_bytes: int
    format: str  # "csv" or "xlsx"
    sheet: str | None = None

    @property
    def where(self) -> str:
        """How messages name the input: 'in.xlsx (sheet "Book")', or 'in.csv'."""
        if not self.sheet:
            return self.name
        return _('{name} (sheet "{sheet}")').format(name=self.name, sheet=self.sheet)


@dataclass(frozen=True)
class RawTable:
    """The input as read: every column exactly as given, one entry per non-blank row.

    `frame` has one column per input column, in input order; its column labels are the
    `keys` (the header text, made unique with " (2)" etc. when two headers are identical).
    Values are as read: str, datetime/date/time, int/float, bool or None; never coerced.
    `headers[i]` is the header text as written, `letters[i]` its column letter, and
    `source_rows[j]` the Excel-visible row number of frame row j (header = row 1).
    `fields` maps each canonical field name found to the key of its column.
    `issues` are file-level findings of the reader (unknown-column warnings, ...).
    `names[i]`, when the workbook is one of ours, is the stable name its defined names give
    column i ("outcome" for a Welsh "Canlyniad"; None for the input's own columns); `labels`
    is what each column is known by: that name, else its header.

    A row has two identities: its position in `frame` (what the stages key their results
    by) and its Excel row (what an Issue names): `position_of` turns one into the other.
    """

    frame: Any  # pandas.DataFrame (Any keeps models free of a pandas import)
    keys: tuple[str, ...]
    headers: tuple[str, ...]
    letters: tuple[str, ...]
    source_rows: tuple[int, ...]
    fields: Mapping[str, str]
    source: SourceInfo
    kind: SheetKind
    issues: tuple[Issue, ...] = ()
    names: tuple[str | None, ...] = ()

    def __len__(self) -> int:
        return len(self.source_rows)

    @property
    def labels(self) -> tuple[str, ...]:
        if not self.names:
            return self.headers
        return tuple(n or h for n, h in zip(self.names, self.headers, strict=True))

    def letter_of(self, key: str) -> str:
        return self.letters[self.keys.index(key)]

    def position_of(self, row: int | None) -> int | None:
        """The frame position of Excel row `row` (an Issue's row); None for a file-level
        issue's None or a row that holds no data."""
        return None if row is None else self._positions.get(row)

    @cached_property
    def _positions(self) -> dict[int, int]:
        """Excel row -> frame position, worked out once per table."""
        return {row: position for position, row in enumerate(self.source_rows)}


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One row of the Results sheet after the input columns."""

    outcome: Outcome
    reference: str | None = None
    appointment_id: str | None = None
    status: str | None = None
    meeting_url: str | None = None
    host_url: str | None = None  # written only with --include-host-links
    appointment_at_utc: datetime | None = None
    error: str | None = None
    attempts: int = 0
