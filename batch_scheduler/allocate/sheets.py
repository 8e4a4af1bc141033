"""Check the Claimants and Slots sheets and turn their valid rows into the allocator's input.

Both sheets are checked by the book sheet's own rules (`schema.validate_book`), so every
cell gets the same parsing, issue codes and messages as in `book`:
- a claimant row is a book row without a time: validate_book sees it with a placeholder
  appointment time (an exact instant, always in the future) and we keep its findings on the
  claimant's columns; the earliest and latest dates are read here;
- a slot's start, duration, department and interpreter language are book fields under other
  headers: validate_book sees them with a placeholder claimant name; capacity is read here.
Placeholder columns never reach the plan or a message.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.allocate.matcher import Claimant, Slot
from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.intake import SLOT_FIELDS, Field, fields_for
from batch_scheduler.issues import make_issue
from batch_scheduler.models import AppointmentRequest, ClaimantIn, Issue, RawTable

# normalise (the module): its cell parsers are not on validate's face, but the claimant and
# slot checks share them (issue 12 moves the shared cell rules into validate)
from batch_scheduler.validate import describe_rules, normalise, validate_book

MAX_CAPACITY = 1000
_PLACEHOLDER = "\x00"  # starts the key of a placeholder column: no header read has one


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
    """The rule on capacities. Check names are issue codes (issues.py)."""
    check = pa.Check.in_range(1, MAX_CAPACITY, name="out-of-range")
    return pa.DataFrameSchema({"capacity": pa.Column(checks=check, nullable=True)}, name="slots")


# ---------------------------------------------------------------- claimants


def validate_claimants(
    table: RawTable, settings: IntakeSettings, *, now: datetime
) -> ClaimantSheet:
    """Check every claimant row; the rows without errors become Claimants."""
    if "claimant_name" not in table.fields:
        raise InputError(f"{_where(table)} has no Claimant name column: add one (it is required).")
    start = now.astimezone(UTC) + timedelta(days=1)
    times = [start + timedelta(seconds=i) for i in range(len(table))]
    validation = validate_book(_with(table, appointment_at=times), settings, now=now)
    issues = [i for i in validation.issues if not _placeholder(i)]
    earliest = _dates(table, "earliest_date", now, issues)
    latest = _dates(table, "latest_date", now, issues)
    for pos in range(len(table)):
        low, high = earliest[pos], latest[pos]
        if low is not None and high is not None and high < low:
            issues.append(
                _issue(table, "window-reversed", pos, "latest_date",
                       earliest=f"{low:%d/%m/%Y}", latest=f"{high:%d/%m/%Y}")
            )  # fmt: skip
    given = _given_references(table)
    issues += _duplicate_claimants(table, validation.requests, given)
    bad = _error_positions(table, issues)
    claimants, details = [], {}
    for pos, request in sorted(validation.requests.items()):
        if pos in bad:
            continue
        language = request.interpreter_language if request.is_interpreter_needed else None
        claimants.append(
            Claimant(
                id=pos,
                row=table.source_rows[pos],
                department=request.department_id,
                language=language,
                earliest=earliest[pos],
                latest=latest[pos],
            )
        )
        details[pos] = BookDetails(
            reference=given[pos],
            claimant=request.claimant,
            is_interpreter_needed=request.is_interpreter_needed,
            interpreter_language=language,
            department_id=request.department_id,
            options=request.options,
        )
    return ClaimantSheet(table, tuple(claimants), details, _sorted(issues))


def _dates(table: RawTable, field: str, now: datetime, issues: list[Issue]) -> list[date | None]:
    """A column of dates (a time of day, if given, is ignored); unreadable -> invalid-date."""
    moments = normalise.read_moments(
        _raw(table, field), serials=normalise.DATE_SERIALS, pivot_year=now.year + 50
    )
    bad = moments.bad | moments.instant.notna()
    out: list[date | None] = []
    for pos, (local, wrong) in enumerate(zip(moments.local, bad, strict=True)):
        if wrong:
            issues.append(_issue(table, "invalid-date", pos, field))
        out.append(None if wrong or pd.isna(local) else local.date())
    return out


def _given_references(table: RawTable) -> list[str | None]:
    text = normalise.as_text(_raw(table, "reference")).values
    return [v if isinstance(v, str) else None for v in text.tolist()]


def _fold_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _duplicate_claimants(
    table: RawTable,
    requests: Mapping[int, AppointmentRequest],
    given: list[str | None],
) -> list[Issue]:
    """Rows without a reference that repeat an earlier row's claimant (name and birth date):
    they would be a second appointment for the same person. The first row stays valid."""
    seen: dict[tuple[str, date | None], list[int]] = defaultdict(list)
    for pos, request in sorted(requests.items()):
        if given[pos] is None:
            seen[(_fold_name(request.claimant.name), request.claimant.date_of_birth)].append(pos)
    issues = []
    for positions in seen.values():
        first = table.source_rows[positions[0]]
        for pos in positions[1:]:
            issues.append(
                _issue(table, "duplicate-claimant", pos, "claimant_name", others=f"row {first}")
            )
    return issues


# ---------------------------------------------------------------- slots


def validate_slots(table: RawTable, settings: IntakeSettings, *, now: datetime) -> SlotSheet:
    """Check every slot row; the rows without errors become Slots."""
    has = table.fields
    if "appointment_at" not in has and not (
        "appointment_date" in has and "appointment_time" in has
    ):
        raise InputError(
            f"{_where(table)} has no Start column: add a Start column (date and time), or "
            "Start date and Start time columns."
        )
    language = normalise.as_text(_raw(table, "interpreter_language"))
    names = [f"slot {row}" for row in table.source_rows]
    needed = [None if gone else True for gone in language.missing.tolist()]
    validation = validate_book(
        _with(table, claimant_name=names, is_interpreter_needed=needed), settings, now=now
    )
    issues = [i for i in validation.issues if not _placeholder(i)]
    capacity = _capacities(table, issues)
    bad = _error_positions(table, issues)
    zone = ZoneInfo(settings.timezone)
    slots = [
        Slot(
            id=pos,
            row=table.source_rows[pos],
            start=request.appointment_at,
            local=request.appointment_at.astimezone(zone).replace(tzinfo=None),
            duration=request.duration_in_minutes,
            department=request.department_id,
            language=request.interpreter_language,
            capacity=capacity[pos],
        )
        for pos, request in sorted(validation.requests.items())
        if pos not in bad
    ]
    return SlotSheet(table, tuple(slots), _sorted(issues))


def _capacities(table: RawTable, issues: list[Issue]) -> list[int]:
    parsed = normalise.parse_integer(_raw(table, "capacity"))
    label = _place(table, "capacity")[1]
    for pos in _positions(parsed.codes.notna()):
        issues.append(_issue(table, str(parsed.codes.iat[pos]), pos, "capacity", label=label))
    values = parsed.values.where(~parsed.missing, 1)
    schema = capacity_schema()
    rule = _range_words(schema)
    for pos in _failures(schema, pd.DataFrame({"capacity": values})):
        issues.append(_issue(table, "out-of-range", pos, "capacity", rule=rule))
    return [int(v) if not pd.isna(v) else 0 for v in values.tolist()]


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[int]:
    """Positions that fail the schema's checks (pandera's own words are dropped)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return sorted({int(i) for i in exc.failure_cases["index"] if i is not None and i == i})
    return []


def _range_words(schema: pa.DataFrameSchema) -> str:
    stats = schema.columns["capacity"].checks[0].statistics
    return f"a slot takes from {stats['min_value']} to {stats['max_value']} claimants"


# ---------------------------------------------------------------- the template's notes


def describe_allocation_rules(field: Field, settings: IntakeSettings) -> str:
    """The "Allowed values" text of the allocate template, from the rules that check it."""
    slot_field = any(field is f for f in SLOT_FIELDS)
    if slot_field and field.name == "interpreter_language":
        return "Optional. Text, at most 255 characters. Blank: no interpreter in this slot."
    if field.name == "capacity":
        stats = capacity_schema().columns["capacity"].checks[0].statistics
        return (
            f"Optional. A whole number from {stats['min_value']} to {stats['max_value']}. Blank: 1."
        )
    text = describe_rules(field, settings)
    if field.name == "latest_date":
        return f"{text} Not before the earliest date. Blank: any day."
    if field.name == "earliest_date":
        return f"{text} Blank: any day."
    if field.name == "department" and not slot_field:
        return f"{text} Blank: any department."
    return text


# ---------------------------------------------------------------- helpers


def _with(table: RawTable, **columns: list[Any]) -> RawTable:
    """The table with placeholder columns for some book fields (keys no sheet can have)."""
    frame = table.frame.reset_index(drop=True).copy()
    keys, found = list(table.keys), dict(table.fields)
    for name, values in columns.items():
        key = _PLACEHOLDER + name
        frame[key] = pd.Series(values, index=frame.index, dtype=object)
        keys.append(key)
        found[name] = key
    extra = len(columns)
    return dataclasses.replace(
        table,
        frame=frame,
        keys=tuple(keys),
        headers=(*table.headers, *(k[1:] for k in keys[-extra:])),
        letters=(*table.letters, *([""] * extra)),
        fields=found,
    )


def _placeholder(issue: Issue) -> bool:
    """An issue about a placeholder column (they alone have no letter): not the sheet's."""
    return issue.column == ""


def _raw(table: RawTable, field: str) -> pd.Series:
    frame = table.frame.reset_index(drop=True)
    if field not in table.fields:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame[table.fields[field]]


def _place(table: RawTable, field: str) -> tuple[str | None, str]:
    every = {f.name: f for kind in ("claimants", "slots") for f in fields_for(kind)}
    if field not in table.fields:
        return None, every[field].header
    key = table.fields[field]
    return table.letter_of(key), table.headers[table.keys.index(key)]


def _issue(table: RawTable, code: str, pos: int, field: str, **values: Any) -> Issue:
    column, header = _place(table, field)
    cell = _raw(table, field).iat[pos]
    blank = cell is None or (isinstance(cell, str) and not cell.strip())
    values.setdefault("value", None if blank else normalise.cell_text(cell))
    values.setdefault("label", header)
    return make_issue(
        code, row=table.source_rows[pos], column=column, header=header, field=field, **values
    )


def _positions(mask: pd.Series) -> list[int]:
    return [i for i, flag in enumerate(mask.tolist()) if flag]


def _error_positions(table: RawTable, issues: Iterable[Issue]) -> set[int]:
    rows = {row: pos for pos, row in enumerate(table.source_rows)}
    return {rows[i.row] for i in issues if i.is_error and i.row in rows}


def _sorted(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    def key(issue: Issue) -> tuple[int, int, str]:
        letter = issue.column or ""
        return (issue.row or 0, len(letter), letter)

    return tuple(sorted(issues, key=key))


def _where(table: RawTable) -> str:
    source = table.source
    return f'{source.name} (sheet "{source.sheet}")' if source.sheet else source.name
