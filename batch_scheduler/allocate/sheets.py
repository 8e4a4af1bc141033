"""Check the Claimants and Slots sheets and turn their valid rows into the allocator's input.

Both sheets hold some of the book's fields, under the book's field names, and are checked
with the book's own building blocks (validate's FieldReader, the book schema, the rules),
so every cell gets the same parsing, issue codes and messages as in `book`:
- a claimant row is a book row without a time (the allocator picks the slot), plus the
  dates the claimant can attend;
- a slot row is a book row's time, duration, department and interpreter language, plus how
  many claimants it takes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.allocate.matcher import Claimant, Slot
from batch_scheduler.columns import SLOT_FIELDS, Field
from batch_scheduler.config import IntakeSettings
from batch_scheduler.i18n import _
from batch_scheduler.models import ClaimantIn, Issue, RawTable
from batch_scheduler.validate import describe_rules
from batch_scheduler.validate.book import book_schema, claimant_values, needs_values, rules
from batch_scheduler.validate.cells import python_values
from batch_scheduler.validate.checks import check_stats
from batch_scheduler.validate.readers import FieldReader
from batch_scheduler.validate.references import fold_person_name
from batch_scheduler.validate.requests import claimants, option_dicts, row_lists
from batch_scheduler.validate.rules import duplicate_references, row_list
from batch_scheduler.validate.sheet import Found, Sheet

MAX_CAPACITY = 1000


@dataclass(frozen=True, slots=True)
class BookDetails:
    """A valid claimant row, API-ready: what the plan's Book sheet writes for them."""

    reference: str | None  # as given; None: the plan makes one from the claimant and the week
    claimant: ClaimantIn
    is_interpreter_needed: bool
    interpreter_language: str | None
    department_id: int | None
    options: Mapping[str, bool | str]


@dataclass(frozen=True)
class ClaimantSheet:
    table: RawTable
    claimants: tuple[Claimant, ...]  # the valid rows, in sheet order
    details: Mapping[int, BookDetails]  # claimant id -> what to book
    issues: tuple[Issue, ...]

    def invalid_positions(self) -> list[int]:
        valid = {c.id for c in self.claimants}
        return [pos for pos in range(len(self.table)) if pos not in valid]


@dataclass(frozen=True)
class SlotSheet:
    table: RawTable
    slots: tuple[Slot, ...]  # the valid rows, in sheet order
    issues: tuple[Issue, ...]


def capacity_schema() -> pa.DataFrameSchema:
    """The rule on capacities. Check names are issue codes (issues/)."""
    check = pa.Check.in_range(1, MAX_CAPACITY, name="out-of-range")
    return pa.DataFrameSchema({"capacity": pa.Column(checks=check, nullable=True)}, name="slots")


# ---------------------------------------------------------------- claimants


def validate_claimants(
    table: RawTable, settings: IntakeSettings, *, now: datetime
) -> ClaimantSheet:
    """Check every claimant row; the rows without errors become Claimants."""
    found = Found(Sheet.of(table))
    read = FieldReader(found, settings)
    values = pd.DataFrame(
        {"reference": read.given_text("reference"), **claimant_values(read, now),
         **needs_values(read)},
        index=found.sheet.frame.index,
    )  # fmt: skip
    read.check(book_schema(settings, now), values)
    rules(found, values, settings)
    given: list[str | None] = python_values(values["reference"])
    duplicate_references(found, values["reference"], given)
    repeats = _repeated_claimants(values, given, found.error_positions())
    for pos, first in repeats.items():
        others = row_list([table.source_rows[first]])
        found.add_beside("duplicate-claimant", pos, "claimant_name", others=others)
    earliest, latest = (_dates(read, name, now) for name in ("earliest_date", "latest_date"))
    for pos, (low, high) in enumerate(zip(earliest, latest, strict=True)):
        if low is not None and high is not None and high < low:
            found.add("window-reversed", pos, "latest_date",
                      earliest=f"{low:%d/%m/%Y}", latest=f"{high:%d/%m/%Y}")  # fmt: skip
    bad = found.error_positions()
    good = [pos for pos in range(len(table)) if pos not in bad]
    cols = row_lists(values, good)
    rows = zip(
        good,
        claimants(cols),
        cols["is_interpreter_needed"],
        cols["interpreter_language"],
        cols["department"],
        option_dicts(cols, settings),
        strict=True,
    )
    people, details = [], {}
    for pos, person, needed, spoken, department, options in rows:
        language = spoken if needed else None
        people.append(
            Claimant(
                id=pos,
                row=table.source_rows[pos],
                department=department,
                language=language,
                earliest=earliest[pos],
                latest=latest[pos],
            )
        )
        details[pos] = BookDetails(
            reference=given[pos],
            claimant=person,
            is_interpreter_needed=bool(needed),
            interpreter_language=language,
            department_id=department,
            options=options,
        )
    return ClaimantSheet(table, tuple(people), details, found.all_issues())


def _dates(read: FieldReader, field: str, now: datetime) -> list[date | None]:
    """A column of dates (a time of day, if given, is ignored)."""
    days = read.dates(field, pivot_year=now.year + 50)
    return [None if pd.isna(day) else day.date() for day in days.tolist()]


def _repeated_claimants(
    values: pd.DataFrame, given: list[str | None], bad: frozenset[int]
) -> dict[int, int]:
    """Rows without a reference that repeat an earlier valid row's claimant (name and birth
    date), with that earlier row: they would be a second appointment for the same person.
    The first row stays valid."""
    names = python_values(values["claimant_name"])
    births = python_values(values["claimant_date_of_birth"])
    seen: dict[tuple[str, date | None], list[int]] = defaultdict(list)
    for pos, (name, birth) in enumerate(zip(names, births, strict=True)):
        if pos not in bad and given[pos] is None:
            seen[(fold_person_name(name), None if pd.isna(birth) else birth.date())].append(pos)
    return {pos: first for first, *rest in seen.values() for pos in rest}


# ---------------------------------------------------------------- slots


def validate_slots(table: RawTable, settings: IntakeSettings, *, now: datetime) -> SlotSheet:
    """Check every slot row; the rows without errors become Slots."""
    found = Found(Sheet.of(table))
    read = FieldReader(found, settings)
    when = read.appointment_times(now)
    values = pd.DataFrame(
        {
            "appointment_at": when.utc,
            "duration_in_minutes": read.integer(
                "duration_in_minutes", default=settings.default_duration
            ),
            "department": read.department("department"),
            "interpreter_language": read.free_text("interpreter_language"),
            "capacity": read.integer("capacity", default=1),
        },
        index=found.sheet.frame.index,
    )
    read.check(book_schema(settings, now), values, when)
    read.check(capacity_schema(), values)
    bad = found.error_positions()
    good = [pos for pos in range(len(table)) if pos not in bad]
    cols = row_lists(values, good)
    zone = ZoneInfo(settings.timezone)
    slots = [
        Slot(
            id=pos,
            row=table.source_rows[pos],
            start=start,
            local=start.astimezone(zone).replace(tzinfo=None),
            duration=int(duration),
            department=department,
            language=language,
            capacity=int(capacity),
        )
        for pos, start, duration, department, language, capacity in zip(
            good,
            cols["appointment_at"],
            cols["duration_in_minutes"],
            cols["department"],
            cols["interpreter_language"],
            cols["capacity"],
            strict=True,
        )
    ]
    return SlotSheet(table, tuple(slots), found.all_issues())


# ---------------------------------------------------------------- the template's notes


def describe_allocation_rules(field: Field, settings: IntakeSettings) -> str:
    """The "Allowed values" text of the allocate template, from the rules that check it."""
    slot_field = any(field is f for f in SLOT_FIELDS)
    if slot_field and field.name == "interpreter_language":
        return _("Optional. Text, at most 255 characters. Blank: no interpreter in this slot.")
    if field.name == "capacity":
        stats = check_stats(capacity_schema(), "capacity", "out-of-range")
        words = _("Optional. A whole number from {low} to {high}. Blank: 1.")
        return words.format(low=stats["min_value"], high=stats["max_value"])
    text = describe_rules(field, settings)
    more = None
    if field.name == "latest_date":
        more = _("Not before the earliest date. Blank: any day.")
    elif field.name == "earliest_date":
        more = _("Blank: any day.")
    elif field.name == "department" and not slot_field:
        more = _("Blank: any department.")
    return f"{text} {more}" if more else text
