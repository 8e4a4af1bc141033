"""The blank workbooks ops fill in: one data sheet with friendly headers, plus Instructions.

Everything comes from columns/fields.py (and, when given, the schema's rule text), so the
template cannot drift from what the reader accepts. The examples are notes on the headers and a
column of the Instructions sheet, not a data row: a forgotten example row would be booked
for real, and an example date in a cell would go stale. Output is deterministic (fixed
document dates), so the checked-in templates can be compared with the generator.

Regenerate the checked-in files with `python templates/make_templates.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from xlsxwriter.worksheet import Worksheet

from batch_scheduler.columns import Field, Kind, fields_for
from batch_scheduler.config import IntakeSettings
from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.cells import (
    HEADER_FILL,
    MAX_ROWS,
    Formats,
    open_book,
    write_row,
)
from batch_scheduler.output.xlsx.layout import apply_page, line_count, row_height
from batch_scheduler.validate import describe_rules

DOCUMENT_DATE = datetime(2026, 1, 1)  # fixed, so regenerating gives the same file
SHEET_NAMES = {"book": "Book", "cancel": "Cancel", "allocate": "Allocate"}
# The data sheets of each template: (sheet name, kind of sheet its fields come from).
DATA_SHEETS: dict[str, tuple[tuple[str, str], ...]] = {
    "book": (("Book", "book"),),
    "cancel": (("Cancel", "cancel"),),
    "allocate": (("Claimants", "claimants"), ("Slots", "slots")),
}
ALTERNATIVES = frozenset({"appointment_date", "appointment_time"})  # Instructions only
TEXT_FIELDS = frozenset({"reference", "appointment_id"})  # keep leading zeros, like phones
INSTRUCTION_COLUMNS = (  # (title, width): long text wraps, so it prints one page wide
    ("Column", 22),
    ("Required?", 20),
    ("What it means", 46),
    ("Allowed values", 42),
    ("Example", 24),
    ("Also accepted as", 30),
)
_REQUIRED_NOTES = {
    ("slots", "appointment_at"): "Yes (or Start date + Start time)",
    ("slots", "appointment_date"): "Only instead of Start, with Start time",
    ("slots", "appointment_time"): "Only instead of Start, with Start date",
    ("claimants", "interpreter_language"): "When an interpreter is needed",
    ("book", "appointment_at"): "Yes (or Appointment date + Appointment time)",
    ("book", "appointment_date"): "Only instead of Appointment, with Appointment time",
    ("book", "appointment_time"): "Only instead of Appointment, with Appointment date",
    ("book", "interpreter_language"): "When an interpreter is needed",
    ("cancel", "appointment_id"): "Appointment id or Reference",
    ("cancel", "reference"): "Appointment id or Reference",
}
_LIST_RULES: dict[Kind, tuple[str, ...]] = {
    Kind.BOOLEAN: ("Yes", "No"),
    Kind.BANDWIDTH: ("low", "medium", "high"),
}

# The "allowed values" text comes from the schema: one source of truth for rules and help.
Rules = Callable[[Field], str]


def write_template(
    path: Path, kind: str, settings: IntakeSettings, *, rules: Rules | None = None
) -> None:
    """Write the template for `kind` ("book", "cancel" or "allocate") to `path`, atomically."""
    if kind not in DATA_SHEETS:
        raise ValueError(f"unknown template kind {kind!r}")
    if rules is None and kind == "allocate":
        # at use: allocate sits above output (its command writes through output)
        from batch_scheduler.allocate.sheets import describe_allocation_rules

        rules = partial(describe_allocation_rules, settings=settings)
    sheets = DATA_SHEETS[kind]
    # no personal data in a template: readable by all, like any shared form
    with atomic_path(Path(path), mode=0o644) as temp, open_book(temp) as book:
        book.set_properties({"title": f"{SHEET_NAMES[kind]} template", "created": DOCUMENT_DATE})
        formats = Formats(book)
        data = [book.add_worksheet(name) for name, _ in sheets]
        instructions = book.add_worksheet("Instructions")
        if settings.departments:
            _write_list(book.add_worksheet("Lists"), list(settings.departments))
        for sheet, (_, sheet_kind) in zip(data, sheets, strict=True):
            columns = [f for f in fields_for(sheet_kind) if f.name not in ALTERNATIVES]
            _write_data_sheet(sheet, formats, columns)
            _add_dropdowns(sheet, columns, settings)
        _write_instructions(instructions, formats, kind, settings, rules)


def _write_data_sheet(sheet: Worksheet, formats: Formats, columns: list[Field]) -> None:
    bold, text = formats.get(bold=True, fill=HEADER_FILL), formats.get("@")
    for col, field in enumerate(columns):
        width = max(len(field.header), len(field.example), 10) + 4
        as_text = field.kind is Kind.PHONE or field.name in TEXT_FIELDS
        sheet.set_column(col, col, width, text if as_text else None)
        sheet.write_string(0, col, field.header, bold)
        note = _header_note(field)
        sheet.write_comment(0, col, note, {"x_scale": 2.5, "y_scale": _note_scale(note)})
    sheet.freeze_panes(1, 0)
    apply_page(sheet)


def _note_scale(note: str) -> float:
    """How much taller than Excel's default (74 px) a header's note is: as tall as its
    text, about 14 px a line of about 50 characters in the box 2.5 times as wide."""
    return max(1.0, (line_count(note, 44) * 14 + 12) / 74)


def _header_note(field: Field) -> str:
    required = "Required. " if field.required else ""
    return f"{required}{field.description}\nExample: {field.example}"


def _write_list(sheet: Worksheet, names: list[str]) -> None:
    """Department names on a hidden sheet: a literal list breaks on commas and 255 chars."""
    sheet.hide()
    for row, name in enumerate(names):
        sheet.write_string(row, 0, name)


def _add_dropdowns(data: Worksheet, columns: list[Field], settings: IntakeSettings) -> None:
    """Yes/No, bandwidth and department dropdowns; other values warn but are allowed."""
    names = list(settings.departments)
    for col, field in enumerate(columns):
        if field.kind in _LIST_RULES:
            source: object = list(_LIST_RULES[field.kind])
        elif field.kind is Kind.DEPARTMENT and names:
            source = f"=Lists!$A$1:$A${len(names)}"
        else:
            continue
        rule = {
            "validate": "list",
            "source": source,
            "error_type": "warning",
            "error_title": field.header,
            "error_message": "This value is not in the list. Keep it only if you are sure "
            "(see the Instructions sheet).",
        }
        data.data_validation(1, col, MAX_ROWS - 1, col, rule)


def _write_instructions(
    sheet: Worksheet,
    formats: Formats,
    kind: str,
    settings: IntakeSettings,
    rules: Rules | None,
) -> None:
    """One row per field; a template with several data sheets gets a title row per sheet;
    then the notes, each across the whole width. Rows are as tall as their wrapped text."""
    bold = formats.get(bold=True, fill=HEADER_FILL)
    widths = [width for _, width in INSTRUCTION_COLUMNS]
    for col, (title, width) in enumerate(INSTRUCTION_COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    apply_page(sheet)
    row = 0
    sheets = DATA_SHEETS[kind]
    for name, sheet_kind in sheets:
        if len(sheets) > 1:
            row += 1
            sheet.write_string(row, 0, f"{name} sheet", formats.get(bold=True))
        for field in fields_for(sheet_kind):
            row += 1
            cells = (
                field.header,
                _REQUIRED_NOTES.get((sheet_kind, field.name), "Yes" if field.required else "No"),
                field.description,
                rules(field) if rules else describe_rules(field, settings),
                field.example,
                ", ".join(field.aliases),
            )
            write_row(sheet, formats, row, cells, widths)
    wrap, last = formats.get(wrap=True), len(INSTRUCTION_COLUMNS) - 1
    for offset, note in enumerate(_notes(kind, settings), row + 2):
        sheet.set_row(offset, row_height(line_count(note, sum(widths))))
        sheet.merge_range(offset, 0, offset, last, note, wrap)


def _notes(kind: str, settings: IntakeSettings) -> list[str]:
    if kind == "allocate":
        return [
            "Fill one row per claimant on the Claimants sheet and one row per free slot on the "
            "Slots sheet, from row 2. Keep the header rows; columns may be in any order.",
            "batch-scheduler allocate gives each claimant, in sheet order, the earliest slot "
            "of their department, with their interpreter language, within their dates, that "
            "has room; it explains everyone it could not place.",
            "Give references: then a re-run never books anyone twice, even if the slots change.",
            "Hover over a header to see what it means and an example.",
            f"Times are the clock time in {settings.timezone}.",
        ]
    notes = [
        f"Fill one row per {'appointment' if kind == 'book' else 'cancellation'} on the "
        f"{SHEET_NAMES[kind]} sheet, from row 2. Keep the header row; columns may be in any order.",
        "Hover over a header to see what it means and an example.",
        "Other columns are allowed: they are kept and copied to the results workbook.",
    ]
    if kind == "book":
        notes += [
            "Instead of one Appointment column you may use two: Appointment date and "
            "Appointment time.",
            f"Times are the clock time in {settings.timezone}.",
        ]
    return notes


def generate(directory: Path) -> list[Path]:
    """(Re)write the checked-in templates with the default settings."""
    written = []
    for kind in DATA_SHEETS:
        target = Path(directory) / f"{kind}.xlsx"
        write_template(target, kind, IntakeSettings())
        written.append(target)
    return written
