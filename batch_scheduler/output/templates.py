"""The blank workbooks ops fill in: one data sheet with friendly headers, plus Instructions.

Everything comes from columns/fields.py (and, when given, the schema's rule text), so the
template cannot drift from what the reader accepts. The examples are notes on the headers and a
column of the Instructions sheet, not a data row: a forgotten example row would be booked
for real, and an example date in a cell would go stale. Output is deterministic (fixed
document dates), so the checked-in templates can be compared with the generator.

A template is written in the language in force: in Welsh its sheets (Trefnu, Hawlwyr...),
headers (the Welsh template's: Enw'r hawlydd), dropdowns (Ie/Na, isel/canolig/uchel),
notes and Instructions are Welsh, all of them words the reader accepts in either mode; the
header of each column carries its field's name as a defined name.

Regenerate the checked-in files with `python templates/make_templates.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from xlsxwriter.worksheet import Worksheet

from batch_scheduler.columns import Field, Kind, fields_for
from batch_scheduler.columns.words import answer_words, sheet_titles
from batch_scheduler.config import IntakeSettings
from batch_scheduler.i18n import _, current_language, use_language
from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.cells import (
    HEADER_FILL,
    MAX_ROWS,
    Formats,
    name_cell,
    open_book,
    write_row,
)
from batch_scheduler.output.xlsx.layout import apply_page, line_count, row_height
from batch_scheduler.validate import describe_rules
from batch_scheduler.validate.checks import choice_words

DOCUMENT_DATE = datetime(2026, 1, 1)  # fixed, so regenerating gives the same file
# The data sheets of each template: (sheet's stable name, kind of sheet its fields come from).
DATA_SHEETS: dict[str, tuple[tuple[str, str], ...]] = {
    "book": (("Book", "book"),),
    "cancel": (("Cancel", "cancel"),),
    "allocate": (("Claimants", "claimants"), ("Slots", "slots")),
}
ALTERNATIVES = frozenset({"appointment_date", "appointment_time"})  # Instructions only
TEXT_FIELDS = frozenset({"reference", "appointment_id"})  # keep leading zeros, like phones
INSTRUCTION_WIDTHS = (22, 20, 46, 42, 24, 30)  # long text wraps, so it prints one page wide


def instruction_titles() -> tuple[str, ...]:
    return (
        _("Column"),
        _("Required?"),
        _("What it means"),
        _("Allowed values"),
        _("Example"),
        _("Also accepted as"),
    )


def _required_notes() -> dict[tuple[str, str], str]:
    """What the Required? column says where Yes or No would not say enough."""
    either = _("Appointment id or Reference")
    needed = _("When an interpreter is needed")
    return {
        ("slots", "appointment_at"): _("Yes (or Start date + Start time)"),
        ("slots", "appointment_date"): _("Only instead of Start, with Start time"),
        ("slots", "appointment_time"): _("Only instead of Start, with Start date"),
        ("claimants", "interpreter_language"): needed,
        ("book", "appointment_at"): _("Yes (or Appointment date + Appointment time)"),
        ("book", "appointment_date"): _("Only instead of Appointment, with Appointment time"),
        ("book", "appointment_time"): _("Only instead of Appointment, with Appointment date"),
        ("book", "interpreter_language"): needed,
        ("cancel", "appointment_id"): either,
        ("cancel", "reference"): either,
    }


def _list_rules() -> dict[Kind, tuple[str, ...]]:
    """The dropdowns' values, as the reader accepts them in the language in force."""
    bandwidths = choice_words()
    return {
        Kind.BOOLEAN: answer_words(),
        Kind.BANDWIDTH: (bandwidths["low"], bandwidths["medium"], bandwidths["high"]),
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
    names = sheet_titles()
    # no personal data in a template: readable by all, like any shared form
    with atomic_path(Path(path), mode=0o644) as temp, open_book(temp) as book:
        titles = {
            "book": _("Book template"),
            "cancel": _("Cancel template"),
            "allocate": _("Allocate template"),
        }
        book.set_properties({"title": titles[kind], "created": DOCUMENT_DATE})
        formats = Formats(book)
        data = [book.add_worksheet(names[name]) for name, _kind in sheets]
        instructions = book.add_worksheet(names["Instructions"])
        lists = None
        if settings.departments:
            lists = book.add_worksheet(names["Lists"])
            _write_list(lists, list(settings.departments))
        for sheet, (_name, sheet_kind) in zip(data, sheets, strict=True):
            columns = [f for f in fields_for(sheet_kind) if f.name not in ALTERNATIVES]
            _write_data_sheet(sheet, formats, columns)
            _add_dropdowns(sheet, columns, settings, lists)
        _write_instructions(instructions, formats, kind, settings, rules)


def _write_data_sheet(sheet: Worksheet, formats: Formats, columns: list[Field]) -> None:
    bold, text = formats.get(bold=True, fill=HEADER_FILL), formats.get("@")
    for col, field in enumerate(columns):
        header, example = field.shown_header(), _example(field)
        width = max(len(header), len(example), 10) + 4
        as_text = field.kind is Kind.PHONE or field.name in TEXT_FIELDS
        sheet.set_column(col, col, width, text if as_text else None)
        sheet.write_string(0, col, header, bold)
        name_cell(formats.book, sheet, field.name, 0, col)
        note = _header_note(field)
        sheet.write_comment(0, col, note, {"x_scale": 2.5, "y_scale": _note_scale(note)})
    sheet.freeze_panes(1, 0)
    apply_page(sheet)


def _example(field: Field) -> str:
    """The field's example in the language in force (the words are marked in fields.py; a
    date or a number is not in the catalogue and stays as it is)."""
    return _(field.example)


def _accepted(field: Field) -> str:
    """The other headers the reader takes: in Welsh, the Welsh ones, then the English."""
    if current_language() == "cy" and field.welsh:
        return ", ".join((*field.welsh[1:], field.header, *field.aliases))
    return ", ".join(field.aliases)


def _note_scale(note: str) -> float:
    """How much taller than Excel's default (74 px) a header's note is: as tall as its
    text, about 14 px a line of about 50 characters in the box 2.5 times as wide."""
    return max(1.0, (line_count(note, 44) * 14 + 12) / 74)


def _header_note(field: Field) -> str:
    note = _("Required. {description}") if field.required else "{description}"
    note += "\n" + _("Example: {example}")
    return note.format(description=_(field.description), example=_example(field))


def _write_list(sheet: Worksheet, names: list[str]) -> None:
    """Department names on a hidden sheet: a literal list breaks on commas and 255 chars."""
    sheet.hide()
    for row, name in enumerate(names):
        sheet.write_string(row, 0, name)


def _add_dropdowns(
    data: Worksheet, columns: list[Field], settings: IntakeSettings, lists: Worksheet | None
) -> None:
    """Yes/No, bandwidth and department dropdowns; other values warn but are allowed."""
    names = list(settings.departments)
    values = _list_rules()
    message = _(
        "This value is not in the list. Keep it only if you are sure (see the {sheet} sheet)."
    ).format(sheet=sheet_titles()["Instructions"])
    for col, field in enumerate(columns):
        if field.kind in values:
            source: object = list(values[field.kind])
        elif field.kind is Kind.DEPARTMENT and names and lists is not None:
            source = f"={lists.name}!$A$1:$A${len(names)}"  # one word: Lists, Rhestrau
        else:
            continue
        rule = {
            "validate": "list",
            "source": source,
            "error_type": "warning",
            "error_title": field.shown_header()[:32],
            "error_message": message,
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
    widths = list(INSTRUCTION_WIDTHS)
    for col, (title, width) in enumerate(zip(instruction_titles(), widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    apply_page(sheet)
    row = 0
    sheets, names, notes = DATA_SHEETS[kind], sheet_titles(), _required_notes()
    yes, no = answer_words()
    for name, sheet_kind in sheets:
        if len(sheets) > 1:
            row += 1
            title = _("{sheet} sheet").format(sheet=names[name])
            sheet.write_string(row, 0, title, formats.get(bold=True))
        for field in fields_for(sheet_kind):
            row += 1
            cells = (
                field.shown_header(),
                notes.get((sheet_kind, field.name), yes if field.required else no),
                _(field.description),
                rules(field) if rules else describe_rules(field, settings),
                _example(field),
                _accepted(field),
            )
            write_row(sheet, formats, row, cells, widths)
    wrap, last = formats.get(wrap=True), len(widths) - 1
    for offset, note in enumerate(_notes(kind, settings), row + 2):
        sheet.set_row(offset, row_height(line_count(note, sum(widths))))
        sheet.merge_range(offset, 0, offset, last, note, wrap)


def _notes(kind: str, settings: IntakeSettings) -> list[str]:
    names = sheet_titles()
    hover = _("Hover over a header to see what it means and an example.")
    clock = _("Times are the clock time in {zone}.").format(zone=settings.timezone)
    if kind == "allocate":
        return [
            _(
                "Fill one row per claimant on the {claimants} sheet and one row per free slot "
                "on the {slots} sheet, from row 2. Keep the header rows; columns may be in any "
                "order."
            ).format(claimants=names["Claimants"], slots=names["Slots"]),
            _(
                "batch-scheduler allocate gives each claimant, in sheet order, the earliest "
                "slot of their department, with their interpreter language, within their "
                "dates, that has room; it explains everyone it could not place."
            ),
            _("Give references: then a re-run never books anyone twice, even if the slots change."),
            hover,
            clock,
        ]
    if kind == "book":
        fill = _(
            "Fill one row per appointment on the {sheet} sheet, from row 2. Keep the header "
            "row; columns may be in any order."
        )
    else:
        fill = _(
            "Fill one row per cancellation on the {sheet} sheet, from row 2. Keep the header "
            "row; columns may be in any order."
        )
    notes = [
        fill.format(sheet=names[DATA_SHEETS[kind][0][0]]),
        hover,
        _("Other columns are allowed: they are kept and copied to the results workbook."),
    ]
    if kind == "book":
        notes += [
            _(
                "Instead of one Appointment column you may use two: Appointment date and "
                "Appointment time."
            ),
            clock,
        ]
    return notes


def generate(directory: Path) -> list[Path]:
    """(Re)write the checked-in templates with the default settings: English in `directory`,
    Welsh in its cy/ folder."""
    written = []
    for language, folder in (("en", Path(directory)), ("cy", Path(directory) / "cy")):
        folder.mkdir(parents=True, exist_ok=True)
        with use_language(language):
            for kind in DATA_SHEETS:
                target = folder / f"{kind}.xlsx"
                write_template(target, kind, IntakeSettings())
                written.append(target)
    return written
