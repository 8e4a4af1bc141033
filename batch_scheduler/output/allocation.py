"""The plan workbook of `allocate`: Book (a valid `book` input), Unplaced, Slots, Issues, Summary.

The Book sheet comes first, so `batch-scheduler book PLAN.xlsx` reads it without --sheet.
Its headers are the book template's and its cells hold the normalised values (E.164 phones,
department ids, Yes/No), so `book` reads back exactly what was planned. In Welsh the sheets,
headers and answers are the Welsh template's (Trefnu, Enw'r hawlydd, Ie/Na, canolig), which
`book` reads the same; every header carries its stable name as a defined name. Appointment times
are local wall-clock date cells; a time the clocks show twice (autumn) is written as ISO
text with its offset, so it still means one instant. Written atomically, owner-only (the
sheets hold personal data); strings are never formulas. Every sheet is laid out to read and
print like the results workbook (xlsx/cells.py: write_table).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from batch_scheduler.columns import BOOK_FIELDS
from batch_scheduler.columns.words import (
    answer_words,
    column_headers,
    severity_words,
    sheet_titles,
    summary_label,
    summary_labels,
)
from batch_scheduler.i18n import _
from batch_scheduler.models import Issue, RawTable
from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.cells import Formats, name_cell, open_book, write_table
from batch_scheduler.output.xlsx.layout import Page
from batch_scheduler.validate import claimant_reference
from batch_scheduler.validate.cells import as_text
from batch_scheduler.validate.checks import choice_words

if TYPE_CHECKING:  # annotations only: allocate writes through output, not the reverse
    from batch_scheduler.allocate.matcher import Plan, Slot
    from batch_scheduler.allocate.sheets import BookDetails, ClaimantSheet, SlotSheet

BOOK_COLUMNS = tuple(
    f for f in BOOK_FIELDS if f.name not in ("appointment_date", "appointment_time")
)
INVALID_ROW = "invalid-row"  # the Unplaced reason of a claimant row with errors
# each sheet's columns by stable name (the defined names); headers_of gives their headers
UNPLACED_COLUMNS = ("claimant_row", "reference", "claimant_name", "reason_code", "reason")
SLOT_COLUMNS = (
    "slot_row", "start", "duration_in_minutes", "department", "interpreter_language",
    "capacity", "used", "free", "claimant_rows", "problem",
)  # fmt: skip
ISSUE_COLUMNS = ("sheet", "source_row", "column", "header", "value", "code", "severity", "message")
SUMMARY_COLUMNS = ("item", "value")
SUMMARY_PAGE = Page(landscape=False)
Cell = str | int | float | bool | date | datetime | None


def plan_summary(plan: Plan, claimants: ClaimantSheet, slots: SlotSheet) -> dict[str, object]:
    """The plan's counts, for the Summary sheet and the CLI."""
    unplaced = Counter(str(u.reason) for u in plan.unplaced)
    invalid = len(claimants.invalid_positions())
    if invalid:
        unplaced[INVALID_ROW] = invalid
    return {
        "strategy": str(plan.strategy),
        "claimants": len(claimants.table),
        "placed": len(plan.placements),
        "unplaced": len(plan.unplaced) + invalid,
        **{f"unplaced: {code}": n for code, n in sorted(unplaced.items())},
        "slot_rows": len(slots.table),
        "usable_slots": len(slots.slots),
        "places": sum(s.capacity for s in slots.slots),
        "places_used": sum(plan.used),
    }


def write_plan(
    path: Path,
    *,
    plan: Plan,
    claimants: ClaimantSheet,
    slots: SlotSheet,
    timezone: str,
    summary: Mapping[str, object],
) -> None:
    """Write the plan workbook to `path`, atomically, in the language in force."""
    names = sheet_titles()
    sheets: list[tuple[str, Sequence[str], Sequence[str], Sequence[Sequence[Cell]]]] = [
        (
            names["Book"],
            [f.shown_header() for f in BOOK_COLUMNS],
            [f.name for f in BOOK_COLUMNS],
            _book_rows(plan, claimants, slots, timezone),
        ),
        (names["Unplaced"], *headed(UNPLACED_COLUMNS), _unplaced_rows(plan, claimants)),
        (names["Slots"], *headed(SLOT_COLUMNS), _slot_rows(plan, slots)),
        (names["Issues"], *headed(ISSUE_COLUMNS), _issue_rows(claimants, slots)),
    ]
    with atomic_path(Path(path)) as temp, open_book(temp) as book:
        formats = Formats(book)
        for name, headers, stable, rows in sheets:
            write_table(book.add_worksheet(name), formats, headers, rows, names=stable)
        labels = summary_labels()
        items = [(summary_label(k, labels), _plain(v)) for k, v in summary.items()]
        sheet = book.add_worksheet(names["Summary"])
        headers, stable = headed(SUMMARY_COLUMNS)
        write_table(sheet, formats, headers, items, page=SUMMARY_PAGE, names=stable)
        for row, key in enumerate(summary, 1):
            name_cell(book, sheet, key, row, 0)


def headed(columns: Sequence[str]) -> tuple[list[str], Sequence[str]]:
    """(headers for people, stable names) of a sheet's columns."""
    words = column_headers() | {
        "claimant_row": _("Claimant row"),
        "reference": _("Reference"),
        "claimant_name": _("Claimant name"),
        "reason_code": _("Reason code"),
        "reason": _("Reason"),
        "slot_row": _("Slot row"),
        "start": _("Start"),
        "duration_in_minutes": _("Duration (mins)"),
        "department": _("Department"),
        "interpreter_language": _("Interpreter language"),
        "capacity": _("Capacity"),
        "used": _("Used"),
        "free": _("Free"),
        "claimant_rows": _("Claimant rows"),
        "problem": _("Problem"),
        "sheet": _("Sheet"),
        "source_row": _("Row"),
        "column": _("Column"),
        "header": _("Header"),
        "value": _("Value"),
        "code": _("Code"),
        "severity": _("Severity"),
        "message": _("Message"),
        "item": _("Item"),
    }
    return [words[name] for name in columns], columns


# ---------------------------------------------------------------- rows


def _book_rows(
    plan: Plan, claimants: ClaimantSheet, slots: SlotSheet, timezone: str
) -> list[list[Cell]]:
    zone = ZoneInfo(timezone)
    week = pool_week(slots.slots)
    placements = sorted(plan.placements, key=lambda p: p.claimant.id)
    words = _Words(answer_words(), choice_words())
    return [
        [
            _book_value(f.name, claimants.details[p.claimant.id], p.slot, zone, week, words)
            for f in BOOK_COLUMNS
        ]
        for p in placements
    ]


@dataclass(frozen=True)
class _Words:
    """The Book sheet's answers as the template's dropdowns offer them, in the language in
    force: (yes, no), and the bandwidths by API value."""

    answers: tuple[str, str]
    choices: Mapping[str, str]

    def answer(self, value: bool) -> str:
        return self.answers[0] if value else self.answers[1]


def pool_week(slots: Sequence[Slot]) -> date | None:
    """The Monday of the week of the pool's first slot: what a claimant's reference is tied to."""
    if not slots:
        return None
    first = min(slot.local for slot in slots).date()
    return first - timedelta(days=first.weekday())


def _book_value(
    name: str, details: BookDetails, slot: Slot, zone: ZoneInfo, week: date | None, words: _Words
) -> Cell:
    person = details.claimant
    reference = details.reference
    if reference is None and week is not None:
        reference = claimant_reference(person.name, person.date_of_birth, week)
    values: dict[str, Cell] = {
        "reference": reference,
        "appointment_at": _when(slot, zone),
        "duration_in_minutes": slot.duration,
        "claimant_name": person.name,
        "claimant_date_of_birth": person.date_of_birth,
        "claimant_phone_number": person.phone_number,
        "claimant_email": person.email,
        "is_interpreter_needed": words.answer(details.is_interpreter_needed),
        "interpreter_language": details.interpreter_language,
        "department": details.department_id or slot.department,
    }
    if name in values:
        return values[name]
    option = details.options.get(name)
    if isinstance(option, bool):
        return words.answer(option)
    if isinstance(option, str):
        return words.choices.get(option, option)
    return option


def _when(slot: Slot, zone: ZoneInfo) -> Cell:
    """The slot as a wall-clock date cell; a time the clocks show twice as ISO with offset."""
    early = slot.local.replace(tzinfo=zone, fold=0).utcoffset()
    late = slot.local.replace(tzinfo=zone, fold=1).utcoffset()
    if early != late:
        return slot.start.astimezone(zone).isoformat(timespec="minutes")
    return slot.local


def _unplaced_rows(plan: Plan, claimants: ClaimantSheet) -> list[list[Cell]]:
    table = claimants.table
    names = _column_text(table, "claimant_name")
    references = _column_text(table, "reference")
    rows: list[tuple[int, list[Cell]]] = []
    for u in plan.unplaced:
        pos = u.claimant.id
        rows.append((pos, [u.claimant.row, references[pos], names[pos], str(u.reason), u.words]))
    errors: dict[int, list[Issue]] = defaultdict(list)
    for issue in claimants.issues:
        if issue.is_error and issue.row is not None:
            errors[issue.row].append(issue)
    for pos in claimants.invalid_positions():
        row = table.source_rows[pos]
        words = _("This row has errors, so it was not planned: {errors}").format(
            errors=" ".join(str(i) for i in errors[row])
        )
        rows.append((pos, [row, references[pos], names[pos], INVALID_ROW, words]))
    return [cells for _, cells in sorted(rows, key=lambda r: r[0])]


def _slot_rows(plan: Plan, slots: SlotSheet) -> list[list[Cell]]:
    table = slots.table
    used = {slot.id: n for slot, n in zip(slots.slots, plan.used, strict=True)}
    placed: dict[int, list[int]] = defaultdict(list)
    for p in plan.placements:
        placed[p.slot.id].append(p.claimant.row)
    by_id = {slot.id: slot for slot in slots.slots}
    problems: dict[int, list[str]] = defaultdict(list)
    for issue in slots.issues:
        if issue.is_error and issue.row is not None:
            problems[issue.row].append(str(issue))
    rows: list[list[Cell]] = []
    for pos, row in enumerate(table.source_rows):
        slot = by_id.get(pos)
        if slot is None:
            rows.append([row, *([None] * 8), " ".join(problems[row]) or None])
            continue
        taken = used[pos]
        who = ", ".join(str(r) for r in sorted(placed[pos])) or None
        rows.append([row, slot.local, slot.duration, slot.department, slot.language,
                     slot.capacity, taken, slot.capacity - taken, who, None])  # fmt: skip
    return rows


def _issue_rows(claimants: ClaimantSheet, slots: SlotSheet) -> list[list[Cell]]:
    names, severities = sheet_titles(), severity_words()
    return [
        [sheet, i.row, i.column, i.header, i.value, i.code, severities[i.severity], i.message]
        for sheet, issues in (
            (names["Claimants"], claimants.issues),
            (names["Slots"], slots.issues),
        )
        for i in issues
    ]


def _column_text(table: RawTable, field: str) -> list[str | None]:
    """A column's cells as trimmed text (None when blank or absent), for the Unplaced sheet."""
    if field not in table.fields:
        return [None] * len(table)
    values = as_text(table.frame.reset_index(drop=True)[table.fields[field]]).values
    return [v if isinstance(v, str) else None for v in values.tolist()]


def _plain(value: object) -> Cell:
    return value if isinstance(value, str | int | float) else str(value)
