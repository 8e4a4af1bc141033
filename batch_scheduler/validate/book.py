"""Book sheets: a RawTable -> the appointments to create, plus every problem as an Issue.

Three steps, each over whole columns:
1. each field is read into normalised values (readers.py; a cell that cannot be read gets
   its code);
2. ONE pandera schema (`book_schema`) checks the normalised values: required, ranges,
   lengths, allowed values, future and past dates;
3. the cross-field rules (rules.py) and the references: given, or made (references.py).
The rows without an error become requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.columns import FEATURE_FLAGS
from batch_scheduler.config import IntakeSettings
from batch_scheduler.i18n import welsh_input
from batch_scheduler.models import AppointmentRequest, Issue, RawTable
from batch_scheduler.validate.cells import positions, python_values
from batch_scheduler.validate.checks import too_long
from batch_scheduler.validate.readers import FieldReader
from batch_scheduler.validate.references import generated_reference
from batch_scheduler.validate.requests import book_requests, row_lists
from batch_scheduler.validate.rules import (
    REDIRECT_URLS,
    duplicate_references,
    interpreter_rules,
    redirect_rules,
)
from batch_scheduler.validate.sheet import Found, Sheet

BANDWIDTHS = ("low", "medium", "high")
MIN_DURATION, MAX_DURATION = 1, 1440
EARLIEST_BIRTH = date(1900, 1, 1)
TEXT_LIMIT, URL_LIMIT = 255, 2048
BOOLEAN_FIELDS = (*FEATURE_FLAGS, "is_interpreter_needed", "use_custom_post_call_redirect")


@dataclass(frozen=True)
class BookValidation:
    table: RawTable
    requests: Mapping[int, AppointmentRequest]  # frame position -> request, rows without errors
    references: tuple[str | None, ...]  # per frame row: given or generated reference
    issues: tuple[Issue, ...]  # the reader's issues and ours, by row then column

    def invalid_positions(self) -> frozenset[int]:
        return frozenset(range(len(self.table))) - frozenset(self.requests)


def book_schema(settings: IntakeSettings, now: datetime) -> pa.DataFrameSchema:
    """The rules on normalised book values. Check names are issue codes (issues/)."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    columns: dict[str, pa.Column] = {
        "reference": pa.Column(checks=too_long(TEXT_LIMIT), nullable=True),
        "appointment_at": pa.Column(checks=pa.Check.gt(pd.Timestamp(now), name="in-past")),
        "duration_in_minutes": pa.Column(
            checks=pa.Check.in_range(MIN_DURATION, MAX_DURATION, name="out-of-range")
        ),
        "claimant_name": pa.Column(checks=too_long(TEXT_LIMIT)),
        "claimant_date_of_birth": pa.Column(
            checks=[
                pa.Check.ge(pd.Timestamp(EARLIEST_BIRTH), name="out-of-range"),
                pa.Check.lt(pd.Timestamp(today), name="dob-in-future"),
            ],
            nullable=True,
        ),
        "interpreter_language": pa.Column(checks=too_long(TEXT_LIMIT), nullable=True),
        "department": pa.Column(checks=pa.Check.ge(1, name="out-of-range"), nullable=True),
        "features_bandwidth": pa.Column(
            checks=pa.Check.isin(BANDWIDTHS, name="not-in-list"), nullable=True
        ),
        **{name: pa.Column(checks=too_long(URL_LIMIT), nullable=True) for name in REDIRECT_URLS},
    }
    return pa.DataFrameSchema(columns, name="book")


def validate_book(table: RawTable, settings: IntakeSettings, *, now: datetime) -> BookValidation:
    """Check every book row; build requests for the rows with no error."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    found = Found(Sheet.of(table))
    read = FieldReader(found, settings)
    when = read.appointment_times(now)
    values = pd.DataFrame(book_values(read, now), index=found.sheet.frame.index)
    values["appointment_at"] = when.utc
    read.check(book_schema(settings, now), values, when)
    rules(found, values, settings)
    references = _references(values, when.utc)
    duplicate_references(found, values["reference"], references)
    requests = book_requests(values, references, settings, found.error_positions())
    return BookValidation(table, requests, tuple(references), found.all_issues())


def book_values(read: FieldReader, now: datetime) -> dict[str, pd.Series]:
    """Every book field but the appointment time, read and normalised, one column each.
    (The order does not matter: each field's problems are on its own cells.)"""
    default = read.settings.default_duration
    return {
        "reference": read.given_text("reference"),
        **claimant_values(read, now),
        "duration_in_minutes": read.integer("duration_in_minutes", default=default),
        **needs_values(read),
    }


def claimant_values(read: FieldReader, now: datetime) -> dict[str, pd.Series]:
    """Who the appointment is for: name, date of birth, phone, email."""
    return {
        "claimant_name": read.free_text("claimant_name"),
        "claimant_date_of_birth": read.dates("claimant_date_of_birth", pivot_year=now.year),
        "claimant_phone_number": read.phone("claimant_phone_number"),
        "claimant_email": read.email("claimant_email"),
    }


def needs_values(read: FieldReader) -> dict[str, pd.Series]:
    """What the appointment needs: interpreter, department, and the options (the features,
    bandwidth, redirects)."""
    return {
        **{name: read.flag(name) for name in BOOLEAN_FIELDS},
        "interpreter_language": read.free_text("interpreter_language"),
        "department": read.department("department"),
        "features_bandwidth": read.choice("features_bandwidth", welsh_input.BANDWIDTHS),
        **{name: read.url(name) for name in REDIRECT_URLS},
    }


def rules(found: Found, values: pd.DataFrame, settings: IntakeSettings) -> None:
    """The cross-field rules of a row that says what it needs (book, claimants)."""
    interpreter_rules(found, values)
    redirect_by_default = settings.defaults.get("use_custom_post_call_redirect") is True
    redirect_rules(found, values, redirect_by_default=redirect_by_default)


def _references(values: pd.DataFrame, utc: pd.Series) -> list[str | None]:
    """The given reference, else a generated one when there is a name and a slot."""
    out: list[str | None] = python_values(values["reference"])
    todo = values["reference"].isna() & values["claimant_name"].notna() & utc.notna()
    todo_positions = positions(todo)
    if todo_positions:
        lists = row_lists(values.assign(appointment_at=utc), todo_positions)
        for i, pos in enumerate(todo_positions):
            out[pos] = generated_reference(
                lists["claimant_name"][i],
                lists["appointment_at"][i],
                lists["claimant_date_of_birth"][i],
            )
    return out
