"""The templates ops fill in: generated from fields.py, and the checked-in files match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from batch_scheduler import i18n
from batch_scheduler.columns import BOOK_FIELDS, CANCEL_FIELDS, Field, Kind
from batch_scheduler.config import IntakeSettings
from batch_scheduler.output import write_template
from tests.support.templates import CHECKED_IN, REGENERATE, snapshot
from tests.support.welsh import english_left


def build(tmp_path: Path, kind: str, settings: IntakeSettings | None = None, **kw: Any) -> Workbook:
    path = tmp_path / f"{kind}.xlsx"
    write_template(path, kind, settings or IntakeSettings(), **kw)
    return load_workbook(path)


@pytest.mark.parametrize("kind", ["book", "cancel"])
def test_checked_in_templates_match_the_generator(tmp_path: Path, kind: str) -> None:
    generated = snapshot(build(tmp_path, kind))
    checked_in = snapshot(load_workbook(CHECKED_IN / f"{kind}.xlsx"))
    assert generated == checked_in, REGENERATE


@pytest.mark.parametrize("kind", ["book", "cancel", "allocate"])
def test_checked_in_welsh_templates_match_the_generator(tmp_path: Path, kind: str) -> None:
    with i18n.use_language("cy"):
        generated = snapshot(build(tmp_path, kind))
    checked_in = snapshot(load_workbook(CHECKED_IN / "cy" / f"{kind}.xlsx"))
    assert generated == checked_in, REGENERATE


def test_the_welsh_book_template_is_welsh_and_read_as_the_english_one(tmp_path: Path) -> None:
    with i18n.use_language("cy"):
        book = build(tmp_path, "book", IntakeSettings(departments={"Budd-daliadau": 1}))
    shown = [f for f in BOOK_FIELDS if f.name not in ("appointment_date", "appointment_time")]
    assert book.sheetnames == ["Trefnu", "Cyfarwyddiadau", "Rhestrau"]
    ws = book["Trefnu"]
    headers = [str(c.value) for c in ws[1]]
    assert headers == [f.welsh[0] for f in shown]  # the Welsh headers the reader takes
    assert headers[:4] == ["Cyfeirnod", "Apwyntiad", "Hyd (munudau)", "Enw'r hawlydd"]
    # each header's stable name, for programs: the field it is, whatever it says
    names = {name: d.attr_text for name, d in ws.defined_names.items()}
    letters = {f.name: get_column_letter(i) for i, f in enumerate(shown, 1)}
    assert names == {f"bs_{n}": f"'Trefnu'!${letter}$1" for n, letter in letters.items()}
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
    assert lists[
        f"{letters['is_interpreter_needed']}2:{letters['is_interpreter_needed']}1048576"
    ] == ('"Ie,Na"')
    bandwidth = letters["features_bandwidth"]
    assert lists[f"{bandwidth}2:{bandwidth}1048576"] == '"isel,canolig,uchel"'
    assert lists[f"{letters['department']}2:{letters['department']}1048576"] == "Rhestrau!$A$1:$A$1"
    note = ws[f"{letters['claimant_name']}1"].comment.text
    assert note == "Gofynnol. Enw llawn yr hawlydd.\nEnghraifft: Siân Llewelyn"
    rows = list(book["Cyfarwyddiadau"].iter_rows(values_only=True))
    assert rows[0] == (
        "Colofn", "Gofynnol?", "Beth mae'n ei olygu", "Gwerthoedd a ganiateir", "Enghraifft",
        "Hefyd yn cael ei dderbyn fel",
    )  # fmt: skip
    language = next(r for r in rows if r[0] == "Iaith y cyfieithydd")
    assert language[1:5] == (
        "Pan fydd angen cyfieithydd",
        "Yr iaith y mae'n rhaid i'r cyfieithydd ei siarad. Gofynnol pan fydd angen cyfieithydd.",
        "Dewisol. Testun. 255 nod ar y mwyaf. Gofynnol pan fydd angen cyfieithydd.",
        "Cymraeg",
    )
    assert "Interpreter language" in str(language[5])  # the English headers are taken too
    for row in rows[1:]:  # the examples are values (CASE-000123), not words
        text = " ".join(str(v) for v in row[:4] if v)
        assert english_left(text, ["Europe/London", "Yes/No"]) == set(), row


def test_the_english_template_marks_its_headers_too(tmp_path: Path) -> None:
    book = build(tmp_path, "cancel")
    names = {name: d.attr_text for name, d in book["Cancel"].defined_names.items()}
    assert names == {
        "bs_appointment_id": "'Cancel'!$A$1",
        "bs_reference": "'Cancel'!$B$1",
        "bs_cancellation_reason": "'Cancel'!$C$1",
    }


def test_output_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(first, "book", IntakeSettings())
    write_template(second, "book", IntakeSettings())
    assert first.read_bytes() == second.read_bytes()


def by_header(book: Workbook, sheet: str) -> dict[str, str]:
    ws = book[sheet]
    return {str(c.value): get_column_letter(i) for i, c in enumerate(ws[1], 1)}


def test_book_sheet_headers_notes_and_no_example_row(tmp_path: Path) -> None:
    book = build(tmp_path, "book")
    ws = book["Book"]
    shown = [f for f in BOOK_FIELDS if f.name not in ("appointment_date", "appointment_time")]

    assert book.sheetnames == ["Book", "Instructions"]
    assert [c.value for c in ws[1]] == [f.header for f in shown]
    assert ws.max_row == 1  # examples are notes, never a row that could be booked
    assert ws.freeze_panes == "A2"
    notes = [c.comment.text if c.comment else "" for c in ws[1]]
    for cell, note, field in zip(ws[1], notes, shown, strict=True):
        assert cell.font.b
        assert field.description in note
        assert f"Example: {field.example}" in note
    assert notes[3].startswith("Required.")  # Claimant name


def test_book_dropdowns_and_text_columns(tmp_path: Path) -> None:
    book = build(tmp_path, "book")
    ws, letters = book["Book"], by_header(book, "Book")
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}

    booleans = [f.header for f in BOOK_FIELDS if f.kind is Kind.BOOLEAN]
    assert len(booleans) == 11
    for name in booleans:
        assert lists.pop(f"{letters[name]}2:{letters[name]}1048576") == '"Yes,No"'
    assert (
        lists.pop(f"{letters['Bandwidth']}2:{letters['Bandwidth']}1048576") == '"low,medium,high"'
    )
    assert lists == {}  # no department list without configured departments
    for name in ("Phone", "Reference"):
        assert ws.column_dimensions[letters[name]].number_format == "@"
    assert ws.column_dimensions[letters["Claimant name"]].number_format == "General"


def test_department_dropdown_from_settings(tmp_path: Path) -> None:
    settings = IntakeSettings(departments={"Benefits, North": 3, "=Appeals": 7})
    book = build(tmp_path, "book", settings)
    letter = by_header(book, "Book")["Department"]

    rules = {str(v.sqref): v.formula1 for v in book["Book"].data_validations.dataValidation}
    assert rules[f"{letter}2:{letter}1048576"] == "Lists!$A$1:$A$2"
    lists = book["Lists"]
    assert lists.sheet_state == "hidden"
    assert [(c.value, c.data_type) for c in lists["A"]] == [
        ("Benefits, North", "s"),
        ("=Appeals", "s"),
    ]
    row = next(r for r in book["Instructions"].iter_rows(values_only=True) if r[0] == "Department")
    assert "Benefits, North" in str(row[3])


def test_instructions_describe_every_field(tmp_path: Path) -> None:
    book = build(tmp_path, "book")
    rows = [
        tuple("" if v is None else str(v) for v in r)
        for r in book["Instructions"].iter_rows(values_only=True)
    ]

    assert rows[0] == (
        "Column", "Required?", "What it means", "Allowed values", "Example", "Also accepted as",
    )  # fmt: skip
    table = {r[0]: r for r in rows[1 : len(BOOK_FIELDS) + 1]}
    assert list(table) == [f.header for f in BOOK_FIELDS]  # the alternatives too
    for f in BOOK_FIELDS:
        _, required, meaning, allowed, example, aliases = table[f.header]
        assert (meaning, example, aliases) == (f.description, f.example, ", ".join(f.aliases))
        assert allowed
        assert required.startswith("Yes") if f.required else not required.startswith("Yes")
    assert "Appointment time" in table["Appointment date"][1]
    assert "Yes or No" in table["Recording"][3]
    assert "255" in table["Claimant name"][3]
    notes = [r[0] for r in rows[len(BOOK_FIELDS) + 1 :] if r[0]]
    assert any("Europe/London" in n for n in notes)


@pytest.mark.parametrize("kind", ["book", "cancel", "allocate"])
def test_instructions_print_readably(tmp_path: Path, kind: str) -> None:
    """Rows as tall as their wrapped text (LibreOffice prints lines over the next rows'
    otherwise), notes across the page, A4 landscape one page wide, header on each page."""
    book = build(tmp_path, kind)
    ws = book["Instructions"]
    widths = [ws.column_dimensions[get_column_letter(c)].width for c in range(1, 7)]
    notes = [str(m) for m in ws.merged_cells.ranges]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment.wrap_text and cell.column <= 6:
                merged = any(m.startswith(f"{cell.coordinate}:") for m in notes)
                width = sum(widths) if merged else widths[cell.column - 1]
                height = ws.row_dimensions[cell.row].height or 12.75
                assert height >= 12.75 * len(cell.value) / width, (cell.coordinate, cell.value)
    assert notes and all(m.startswith("A") and ":F" in m for m in notes)
    for sheet in book.worksheets:
        if sheet.sheet_state == "visible":
            assert sheet.page_setup.orientation == "landscape", sheet.title
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
            assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default
            assert sheet.page_setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1"
            assert sheet["A1"].font.name == "Arial"


def test_rules_callable_supplies_allowed_values(tmp_path: Path) -> None:
    def rules(field: Field) -> str:
        return f"rule for {field.name}"

    book = build(tmp_path, "cancel", rules=rules)
    rows = list(book["Instructions"].iter_rows(values_only=True))[1 : len(CANCEL_FIELDS) + 1]
    assert [r[3] for r in rows] == [f"rule for {f.name}" for f in CANCEL_FIELDS]


def test_cancel_template(tmp_path: Path) -> None:
    book = build(tmp_path, "cancel")
    ws = book["Cancel"]
    letters = by_header(book, "Cancel")

    assert [c.value for c in ws[1]] == [f.header for f in CANCEL_FIELDS]
    assert ws.data_validations.dataValidation == []
    assert ws.column_dimensions[letters["Appointment id"]].number_format == "@"
    rows = {r[0]: r for r in book["Instructions"].iter_rows(values_only=True)}
    assert rows["Appointment id"][1] == rows["Reference"][1] == "Appointment id or Reference"


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        write_template(tmp_path / "x.xlsx", "move", IntakeSettings())
    assert list(tmp_path.iterdir()) == []


def test_a_filled_in_template_validates_clean(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from batch_scheduler.intake import read_table
    from batch_scheduler.validate import validate_book

    settings = IntakeSettings(departments={"Benefits": 1})
    path = tmp_path / "book.xlsx"
    write_template(path, "book", settings)
    workbook = load_workbook(path)
    sheet = workbook["Book"]
    values = {
        "reference": "CASE-1",
        "appointment_at": "03/12/2026 14:30",
        "duration_in_minutes": 45,
        "claimant_name": "Siân Llewelyn",
        "claimant_date_of_birth": "14/02/1985",
        "claimant_phone_number": "07400 900123",
        "claimant_email": "sian@example.org",
        "is_interpreter_needed": "Yes",
        "interpreter_language": "Welsh",
        "department": "Benefits",
        "features_bandwidth": "medium",
    }
    by_header = {f.header: f for f in BOOK_FIELDS}
    for column, cell in enumerate(sheet[1], start=1):
        field = by_header[str(cell.value)]
        filled = "No" if field.kind is Kind.BOOLEAN else None
        sheet.cell(row=2, column=column, value=values.get(field.name, filled))
    workbook.save(path)

    table = read_table(path, kind="book", settings=settings)
    result = validate_book(table, settings, now=datetime(2026, 11, 25, tzinfo=UTC))

    assert result.issues == ()
    request = result.requests[0]
    assert request.claimant.phone_number == "+447400900123"
    assert request.department_id == 1 and request.interpreter_language == "Welsh"
