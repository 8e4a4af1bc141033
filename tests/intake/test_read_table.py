"""intake.read_table: what a user relies on when they hand us a CSV or an xlsx."""

from __future__ import annotations

import gc
import hashlib
import time as time_module
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from batch_scheduler.columns import column_letter
from batch_scheduler.config import IntakeSettings
from batch_scheduler.demo import write_samples
from batch_scheduler.demo.samples import MISTAKES
from batch_scheduler.errors import InputError
from batch_scheduler.intake import read_table
from batch_scheduler.models import Outcome, ResultLine, Severity
from batch_scheduler.output import write_results

BOOK_HEADER = "Claimant name,Appointment"


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def openpyxl_book(tmp_path: Path, sheets: dict[str, list[list[Any]]], name="in.xlsx") -> Path:
    book = openpyxl.Workbook()
    for index, (title, rows) in enumerate(sheets.items()):
        sheet = book.worksheets[0] if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def column(table: Any, field: str) -> list[Any]:
    return table.frame[table.fields[field]].tolist()


# ---------------------------------------------------------------- CSV text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_encodings_keep_welsh_names_and_pound_signs(tmp_path: Path, encoding: str) -> None:
    text = "Claimant name,Appointment,Notes\r\nSiân Llewelyn,01/12/2026 10:00,£5 fee paid\r\n"
    table = read_table(write(tmp_path, "in.csv", text, encoding), kind="book")
    assert table.fields["claimant_name"] == "Claimant name"  # no BOM glued to the header
    assert table.frame.iloc[0].tolist() == ["Siân Llewelyn", "01/12/2026 10:00", "£5 fee paid"]
    assert table.source.format == "csv"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_detected_and_quoted_delimiters_kept(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    text = f'Claimant name{d}Appointment{d}Notes\n"Jones{d} Siân"{d}01/12/2026 10:00{d}"a{d}b"\n'
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.keys == ("Claimant name", "Appointment", "Notes")
    assert table.frame.iloc[0].tolist() == [f"Jones{d} Siân", "01/12/2026 10:00", f"a{d}b"]


GREEK_NAMES = ["Γιώργος Παπαδόπουλος", "Μαρία Κωνσταντίνου", "Ελένη Δημητρίου"]
# read as Windows-1252: "£ukasz Wiœniewski", "Ma³gorzata Wójcik", "¯aneta WoŸniak"
POLISH_NAMES = ["Łukasz Wiśniewski", "Małgorzata Wójcik", "Żaneta Woźniak"]


@pytest.mark.parametrize(
    ("names", "encoding", "likely"),
    [
        (GREEK_NAMES, "cp1253", "Greek (Windows-1253)"),
        (["Иван Петров", "Ольга Сидорова", "Наталья Смирнова"], "cp1251", "Cyrillic"),
        (POLISH_NAMES, "cp1250", "Central European (Windows-1250)"),
    ],
)
def test_csv_in_another_single_byte_encoding_is_refused_naming_it(
    tmp_path: Path, names: list[str], encoding: str, likely: str
) -> None:
    """Issue 11: a Greek Windows-1253 CSV read as Windows-1252 without a word, and booked
    "Ãéþñãïò Ðáðáäüðïõëïò". Now refused, with the likely encoding and the fix."""
    rows = [f"{name},0{i + 1}/12/2026 10:00" for i, name in enumerate(names)]
    text = "\r\n".join([BOOK_HEADER, *rows]) + "\r\n"
    with pytest.raises(InputError) as raised:
        read_table(write(tmp_path, "in.csv", text, encoding), kind="book")
    message = raised.value.message
    assert f"it looks like {likely}" in message and "(from line 2)" in message
    assert "CSV UTF-8" in message and raised.value.exit_code == 2
    assert "Ã" not in message and names[0].split()[0] not in message  # no names, either way


def test_csv_in_cp1252_with_accented_names_reads_silently(tmp_path: Path) -> None:
    """Older Excel's own encoding: an accent here and there, and one odd-looking word."""
    names = [
        *("Siân Llewelyn", "Zoë Price", "Ffion O’Brien", "Renée Müller", "José Muñoz"),
        *("Ibáñez Núñez", "Þórður Ægisson", "Åsa Öberg", "Gonçalves Brontë", "Ñúñez Díaz"),
    ]
    notes = ["£{i} “paid” – ok", "¿Qué? ¡Sí! £{i}.50", "2½ hours, 3¾ km, x² ¹st"]
    rows = [f"{name},01/12/2026 10:00,{notes[i % 3].format(i=i)}" for i, name in enumerate(names)]
    text = "\r\n".join([f"{BOOK_HEADER},Notes", *rows]) + "\r\n"
    table = read_table(write(tmp_path, "in.csv", text, "cp1252"), kind="book")
    assert column(table, "claimant_name") == names
    assert table.frame["Notes"][9] == "£9 “paid” – ok"
    assert table.frame["Notes"][1] == "¿Qué? ¡Sí! £1.50"


def test_the_encoding_check_looks_at_a_bounded_sample_of_a_big_csv(tmp_path: Path) -> None:
    """100,000 cp1252 rows, each with an accent: the check reads a bounded sample, not the
    whole file, however long; and it still finds a Greek name on the last line."""
    from batch_scheduler.intake import encoding

    row = "Siân Llewelyn,01/12/2026 10:00,£5 fee,Zoë\r\n".encode("cp1252")
    data = BOOK_HEADER.encode() + b"\r\n" + row * 100_000
    started = time_module.process_time()
    encoding._check_cp1252_reading("big.csv", data)
    assert time_module.process_time() - started < 0.2  # ~5 ms; the whole file would be ~1 s
    plain = BOOK_HEADER.encode() + b"\r\n" + b"Sian Llewelyn,01/12/2026 10:00\r\n" * 100_000
    greek = (GREEK_NAMES[0] + ",01/12/2026 10:00\r\n").encode("cp1253")
    with pytest.raises(InputError, match="line 100002"):
        encoding._check_cp1252_reading("big.csv", plain + greek)


def test_csv_rows_are_numbered_as_excel_shows_them_after_a_multiline_cell(
    tmp_path: Path,
) -> None:
    text = (
        "Claimant name,Appointment,Notes\n"
        'Siân,01/12/2026 10:00,"line one\nline two\nline three"\n'
        "Rhys,02/12/2026 10:00,\n"
        "\n"
        ",,\n"
        "Ffion,03/12/2026 10:00,ok\n"
    )
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.source_rows == (2, 3, 6)
    assert column(table, "claimant_name") == ["Siân", "Rhys", "Ffion"]
    assert table.frame["Notes"][0] == "line one\nline two\nline three"


@pytest.mark.parametrize(
    "header",
    [
        '"Booking\nref",Claimant name,Appointment,Notes,',  # first header
        'Reference,Claimant name,Appointment,"Notes\r\nfor the agent",',  # last named one
        'Reference,"Claimant\nname","Appoint\nment",Notes,',  # two of them, CRLF file
    ],
)
def test_csv_line_break_in_a_header_keeps_every_column(tmp_path: Path, header: str) -> None:
    """Alt+Enter in a header cell: the width is the header record's, not its first line's,
    so no leading column turns silently into pandas' index and no letter shifts."""
    text = (
        f"{header}\n"
        "R1,Siân,01/12/2026 10:00,n1,extra1\n"
        'R2,Rhys,02/12/2026 10:00,"two\nlines",extra2\n'
    )
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.letters == ("A", "B", "C", "D", "E")
    assert table.frame.to_numpy().tolist() == [
        ["R1", "Siân", "01/12/2026 10:00", "n1", "extra1"],
        ["R2", "Rhys", "02/12/2026 10:00", "two\nlines", "extra2"],
    ]
    assert set(table.fields) == {"reference", "claimant_name", "appointment_at"}
    assert table.letter_of(table.fields["reference"]) == "A"
    assert table.source_rows == (2, 3)  # a record is one row in Excel, line breaks or not


def test_sample_book_csv_with_a_line_break_in_a_header_reads_as_without(
    tmp_path: Path, samples: dict[str, Path]
) -> None:
    """Issue 11: book.csv with "Notes" written over two lines and one more column read
    "8 valid": the Reference column was gone, and every letter off by one."""
    lines = samples["book.csv"].read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("Notes", '"Notes\nfor the agent"') + ",Caseworker"
    edited = "\n".join([lines[0]] + [f"{line},CW" for line in lines[1:]]) + "\n"
    table = read_table(write(tmp_path, "book.csv", edited), kind="book")
    plain = read_table(samples["book.csv"], kind="book")
    assert table.fields == {**plain.fields}
    assert table.letters == (*plain.letters, column_letter(len(plain.letters)))
    assert table.frame.iloc[:, :-1].equals(plain.frame.set_axis(table.keys[:-1], axis=1))
    assert table.source_rows == plain.source_rows


def test_xlsx_line_breaks_in_headers_and_cells(tmp_path: Path) -> None:
    path = openpyxl_book(
        tmp_path,
        {
            "S": [
                ["Claimant\nname", "Appointment\ndate", "Appointment \n time", "Notes"],
                ["Siân", "01/12/2026", "10:00", "line one\nline two"],
            ]
        },
    )
    table = read_table(path, kind="book")
    assert table.fields == {
        "claimant_name": "Claimant\nname",
        "appointment_date": "Appointment\ndate",
        "appointment_time": "Appointment \n time",
    }
    assert table.frame.iloc[0].tolist() == ["Siân", "01/12/2026", "10:00", "line one\nline two"]


def test_csv_header_with_a_line_break_matches_its_field(tmp_path: Path) -> None:
    text = '"Claimant\nname","Appointment\ndate","Appointment\ntime"\nSiân,01/12/2026,10:00\n'
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert set(table.fields) == {"claimant_name", "appointment_date", "appointment_time"}


def test_csv_excel_sep_line_gives_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    """Excel reads a first line "sep=;" as the delimiter to use and hides it."""
    text = "sep=;\nClaimant name;Appointment;Notes\nJones, Siân;01/12/2026 10:00;a,b\n"
    table = read_table(write(tmp_path, "in.csv", text, "utf-8-sig"), kind="book")
    assert table.keys == ("Claimant name", "Appointment", "Notes")
    assert table.frame.iloc[0].tolist() == ["Jones, Siân", "01/12/2026 10:00", "a,b"]
    assert table.source_rows == (2,)  # as Excel numbers it: the sep line is not shown


def test_csv_title_line_above_the_headers_does_not_decide_the_delimiter(tmp_path: Path) -> None:
    text = "Bookings for week 48\nClaimant name;Appointment\nSiân;01/12/2026 10:00\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.keys[:2] == ("Claimant name", "Appointment")
    assert column(table, "claimant_name") == ["Siân"]


def test_csv_quote_left_open_swallowing_rows_is_an_error_on_its_cell(tmp_path: Path) -> None:
    """A quote opened in a cell and closed only in a later row turns the rows between into
    part of that cell: they would vanish without a word. The cell is an error; a note on
    two lines, even with a comma, is not."""
    text = (
        "Reference,Claimant name,Appointment,Notes\n"
        'R1,Siân,01/12/2026 10:00,"urgent\n'
        "R2,Rhys,02/12/2026 10:00,ok\n"
        'R3,Ffion,03/12/2026 10:00,"called, twice"\n'
        'R4,Dai,04/12/2026 10:00,"two lines,\nthen, this"\n'
    )
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert column(table, "reference") == ["R1", "R4"]
    assert table.source_rows == (2, 3)
    errors = [(i.code, i.row, i.column) for i in table.issues if i.is_error]
    assert errors == [("quote-not-closed", 2, "D")]


def test_csv_keeps_text_as_written_leading_zeros_and_plus44(tmp_path: Path) -> None:
    text = (
        "Reference,Claimant name,Appointment,Phone,Language,Email\n"
        "007,  Siân  ,01/12/2026 10:00,+447400900123,NA,null\n"
        "0123,Rhys,01/12/2026 10:30,07700 900124,,\n"
    )
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert column(table, "reference") == ["007", "0123"]
    assert column(table, "claimant_phone_number") == ["+447400900123", "07700 900124"]
    assert column(table, "claimant_name") == ["  Siân  ", "Rhys"]
    assert column(table, "interpreter_language") == ["NA", None]
    assert column(table, "claimant_email") == ["null", None]


def test_csv_header_after_blank_lines_keeps_excel_row_numbers(tmp_path: Path) -> None:
    text = "\n;;\nClaimant name;Appointment\nSiân;01/12/2026 10:00\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.source_rows == (4,)


def test_csv_row_longer_than_the_header_keeps_the_extra_cell(tmp_path: Path) -> None:
    text = f"{BOOK_HEADER}\nSiân,01/12/2026 10:00,stray\nRhys,02/12/2026 10:00\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.keys == ("Claimant name", "Appointment", "Column C")
    assert table.frame["Column C"].tolist() == ["stray", None]
    assert [i.code for i in table.issues] == ["unknown-column"]


def test_csv_unclosed_quote_names_the_row(tmp_path: Path) -> None:
    text = f'{BOOK_HEADER}\nSiân,01/12/2026 10:00\n"Rhys,02/12/2026 10:00\nFfion,x\n'
    with pytest.raises(InputError, match="row 3"):
        read_table(write(tmp_path, "in.csv", text), kind="book")


# ---------------------------------------------------------------- xlsx values


def test_xlsx_from_openpyxl_gives_real_types(tmp_path: Path) -> None:
    path = openpyxl_book(
        tmp_path,
        {
            "Sheet1": [
                ["Claimant name", "Appointment", "Duration", "Extra", "Interpreter", "Phone"],
                ["Siân", datetime(2026, 12, 1, 9, 30), 30, 1.5, True, "07700 900123"],
                ["Rhys", date(2026, 12, 2), 45.0, "=1+2", False, 7700900124],
            ]
        },
    )
    book = openpyxl.load_workbook(path)
    book["Sheet1"]["D4"] = time(14, 30)
    book["Sheet1"]["A4"] = "Ffion"
    book["Sheet1"]["F4"] = "#N/A"
    book["Sheet1"]["F4"].data_type = "e"
    book.save(path)
    table = read_table(path, kind="book")
    rows = table.frame.to_numpy().tolist()
    assert rows[0] == ["Siân", datetime(2026, 12, 1, 9, 30), 30, 1.5, True, "07700 900123"]
    assert rows[1] == ["Rhys", date(2026, 12, 2), 45, None, False, 7700900124]
    assert rows[2][3] == time(14, 30)
    assert rows[2][5] == "#N/A"  # error cells read as their text, not as empty
    assert type(rows[0][2]) is int and type(rows[1][5]) is int
    assert table.source.format == "xlsx" and table.source.sheet == "Sheet1"


def test_xlsx_from_xlsxwriter_formula_cached_values(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Claimant name", "Appointment", "Duration", "Notes"])
    sheet.write_string(1, 0, "Siân")
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_datetime(1, 1, datetime(2026, 12, 1, 9, 30), when)
    sheet.write_formula(1, 2, "=15*2", None, 30)  # cached value given
    sheet.write_formula(1, 3, '="a"&"b"', None, "ab")
    sheet.write_string(2, 0, "Rhys")
    sheet.write_datetime(2, 1, datetime(2026, 12, 2, 10, 0), when)
    sheet.write_formula(2, 2, "=15*3")  # no cached value: xlsxwriter stores 0
    sheet.write_boolean(2, 3, True)
    book.close()
    table = read_table(path, kind="book")
    assert table.frame.to_numpy().tolist() == [
        ["Siân", datetime(2026, 12, 1, 9, 30), 30, "ab"],
        ["Rhys", datetime(2026, 12, 2, 10, 0), None, True],
    ]
    # the value never calculated is not just an empty cell: an error on that cell
    assert [(i.code, i.row, i.column, i.field) for i in table.issues if i.is_error] == [
        ("formula-not-calculated", 3, "C", "duration_in_minutes")
    ]


def test_xlsx_data_starting_at_b3_keeps_real_letters_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(2, 1, ["Claimant name", "Appointment", "", "Phone"])
    sheet.write_row(3, 1, ["Siân", "01/12/2026 10:00", "no header", "07700 900123"])
    sheet.write_row(4, 1, ["   ", "", "", ""])  # whitespace only: blank
    sheet.write_row(5, 1, ["Rhys", "02/12/2026 10:00"])
    sheet.write_string(5, 9, "")  # an empty trailing cell: no column
    book.close()
    table = read_table(path, kind="book")
    assert table.letters == ("B", "C", "D", "E")
    assert table.keys == ("Claimant name", "Appointment", "Column D", "Phone")
    assert table.headers == ("Claimant name", "Appointment", "", "Phone")
    assert table.source_rows == (4, 6)
    assert table.letter_of(table.fields["claimant_phone_number"]) == "E"
    [issue] = table.issues
    assert (issue.code, issue.column, issue.header) == ("unknown-column", "D", None)


def test_blank_rows_are_skipped_and_numbering_follows_excel(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Claimant name", "Appointment"],
        ["Siân", "01/12/2026 10:00"],
        [None, None],
        ["  ", "\u00a0"],
        ["Rhys", "02/12/2026 10:00"],
    ]
    table = read_table(openpyxl_book(tmp_path, {"S": rows}), kind="book")
    assert table.source_rows == (2, 5)
    assert len(table) == len(table.frame) == 2


def test_entity_declaration_in_a_sheet_we_parse_is_refused(tmp_path: Path) -> None:
    """A hidden row makes us parse the sheet's XML: an entity declaration there is refused
    as unsafe (never expanded), not taken for a sheet we merely cannot check."""
    path = openpyxl_book(tmp_path, {"S": [["Claimant name", "Appointment"], ["Siân", "x"]]})
    book = openpyxl.load_workbook(path)
    book["S"].row_dimensions[2].hidden = True
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "x">]>' + parts[sheet]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(InputError, match="unsafe XML"):
        read_table(path, kind="book")


# ---------------------------------------------------------------- sheets


def test_sheet_is_chosen_by_name_first_sheet_by_default(tmp_path: Path) -> None:
    first = [["Claimant name", "Appointment"], ["Siân", "x"]]
    second = [["Claimant name", "Appointment"], ["Rhys", "y"], ["Ffion", "z"]]
    path = openpyxl_book(tmp_path, {"First": first, "Second": second})
    assert len(read_table(path, kind="book")) == 1
    assert len(read_table(path, kind="book", sheet="Second")) == 2
    assert read_table(path, kind="book", sheet="second ").source.sheet == "Second"


def test_missing_sheet_lists_the_sheets_there_are(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path, {"First": [["Claimant name"]], "Second": [["Name"]]})
    with pytest.raises(
        InputError, match=r'no sheet named "Week 48"\. Its sheets are: "First", "Second"'
    ):
        read_table(path, kind="book", sheet="Week 48")


# ---------------------------------------------------------------- headers and fields


def test_two_headers_meaning_the_same_field_is_an_error_naming_both(tmp_path: Path) -> None:
    text = "Claimant name,Appointment,Phone,Notes,Email,Mobile\nSiân,x,07700 900123,,,07700\n"
    with pytest.raises(InputError) as raised:
        read_table(write(tmp_path, "in.csv", text), kind="book")
    message = raised.value.message
    assert 'C ("Phone")' in message and 'F ("Mobile")' in message
    assert "07700" not in message  # cell contents never reach an error message


def test_identical_unknown_headers_get_unique_keys(tmp_path: Path) -> None:
    text = f"{BOOK_HEADER},Notes,Notes\nSiân,x,one,two\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.keys == ("Claimant name", "Appointment", "Notes", "Notes (2)")
    assert table.headers[2:] == ("Notes", "Notes")
    assert table.frame["Notes (2)"].tolist() == ["two"]


def test_unknown_columns_are_kept_and_warned_once_each(tmp_path: Path) -> None:
    text = f"{BOOK_HEADER},Notes,Caseworker\nSiân,x,n1,c1\nRhys,y,n2,c2\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.frame["Notes"].tolist() == ["n1", "n2"]
    assert [(i.code, i.severity, i.row, i.column, i.header) for i in table.issues] == [
        ("unknown-column", Severity.WARNING, None, "C", "Notes"),
        ("unknown-column", Severity.WARNING, None, "D", "Caseworker"),
    ]
    assert str(table.issues[0]).startswith("Column C (Notes): This column is not one we know")


def missing_message(tmp_path: Path, text: str, kind: str = "book") -> str:
    with pytest.raises(InputError, match="is missing") as raised:
        read_table(write(tmp_path, "in.csv", text), kind=kind)
    assert raised.value.exit_code == 2
    return raised.value.message


@pytest.mark.parametrize(
    ("kind", "header", "missing"),
    [
        ("book", "Appointment,Phone", "Claimant name"),
        ("book", "Name,Phone", "Appointment"),
        ("book", "Name,Appointment date", "Appointment time"),
        ("cancel", "Reason,Notes", "Appointment id"),
    ],
)
def test_missing_required_columns_name_what_is_accepted(
    tmp_path: Path, kind: str, header: str, missing: str
) -> None:
    message = missing_message(tmp_path, f"{header}\nSiân Llewelyn,x\n", kind)
    assert missing in message
    assert "Siân" not in message


def test_misspelt_header_gets_a_suggestion_and_the_headers_found_first(tmp_path: Path) -> None:
    """Issue 11: "Apointment" got ~600 characters of accepted headers. Now the first
    sentences say what is missing, the likely fix and what was found; the list comes last."""
    message = missing_message(
        tmp_path, "Ref,Claimant name,Apointment,Phone\nR1,Siân,01/12/2026 10:00,07400 900123\n"
    )
    assert message.startswith(
        "in.csv is missing a required column: Appointment (or two columns, Appointment date "
        "and Appointment time). Did you mean “Appointment” for column C, “Apointment”? "
        "The headers found in row 1: A “Ref”, B “Claimant name”, C “Apointment”, D “Phone”. "
    )
    assert message.index("Did you mean") < message.index("headers accepted")
    assert "Siân" not in message


@pytest.mark.parametrize(
    ("kind", "text", "hint"),
    [
        ("book", "Reference,Reason\nSQ-1,Asked to rebook\n", 'cancel sheet: use "cancel"'),
        ("cancel", "Name,Date,Time,Phone\nSiân,01/12/2026,10:00,07400\n", 'book sheet: use "book"'),
    ],
)
def test_sheet_of_the_other_kind_says_which_kind_it_looks_like(
    tmp_path: Path, kind: str, text: str, hint: str
) -> None:
    message = missing_message(tmp_path, text, kind)
    assert f"It looks like a {hint}" in message
    assert message.index("It looks like") < message.index("headers accepted")


def test_sheet_of_the_same_kind_with_a_column_missing_gets_no_kind_hint(tmp_path: Path) -> None:
    message = missing_message(tmp_path, "Reference,Claimant name,Phone\nR1,Siân,07400\n")
    assert "It looks like" not in message


def test_csv_with_an_unknown_delimiter_says_which_were_tried(tmp_path: Path) -> None:
    message = missing_message(tmp_path, "Claimant name:Appointment\nSiân:01/12/2026 10:00\n")
    assert "we looked for commas, semicolons, tabs or pipes (|)" in message
    assert "A “Claimant name:Appointment”" in message


def test_missing_column_message_never_quotes_a_data_row(tmp_path: Path) -> None:
    """No header row at all: the first row is data, which may be personal; described only."""
    message = missing_message(
        tmp_path, "Siân Llewelyn,01/12/2026 10:00,sian@example.org\nRhys,02/12/2026,x\n"
    )
    assert "Row 1, read as the header row, looks like data" in message
    assert "Siân" not in message and "sian@" not in message


def test_unknown_column_close_to_a_known_one_says_which(tmp_path: Path) -> None:
    text = f"{BOOK_HEADER},Emial,Notes\nSiân,x,a@b.org,n\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    email, notes = table.issues
    assert email.message.endswith("If it is meant to be “Email”, rename it.")
    assert "meant to be" not in notes.message


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_title_rows_above_the_headers_are_passed_over_with_a_warning(
    tmp_path: Path, fmt: str
) -> None:
    """A title (and a blank row) above the headers: the first row that names the required
    columns is the header row; row numbers and letters stay as Excel shows them."""
    rows: list[list[Any]] = [
        ["Bookings for week 48", None, None],
        ["Prepared by the Cardiff team", None, None],
        [None, None, None],
        ["Claimant name", "Appointment", "Notes"],
        ["Siân", "01/12/2026 10:00", "n1"],
        ["Rhys", "02/12/2026 10:00", None],
    ]
    if fmt == "csv":
        text = "\n".join(",".join(v or "" for v in row) for row in rows) + "\n"
        path = write(tmp_path, "in.csv", text)
    else:
        path = openpyxl_book(tmp_path, {"S": rows})
    table = read_table(path, kind="book")
    assert table.keys == ("Claimant name", "Appointment", "Notes")
    assert table.letters == ("A", "B", "C")
    assert table.source_rows == (5, 6)
    assert column(table, "claimant_name") == ["Siân", "Rhys"]
    issue, notes = table.issues
    assert (issue.code, issue.severity, issue.row) == ("rows-above-header", Severity.WARNING, None)
    assert notes.code == "unknown-column"
    assert issue.message.startswith("The headers were found on row 4, so rows 1 to 2 above")


def test_date_and_time_in_two_columns_are_accepted(tmp_path: Path) -> None:
    text = "Name,Date,Time\nSiân,01/12/2026,10:00\n"
    table = read_table(write(tmp_path, "in.csv", text), kind="book")
    assert table.fields == {
        "claimant_name": "Name",
        "appointment_date": "Date",
        "appointment_time": "Time",
    }


def test_results_workbook_reads_as_cancel_input(tmp_path: Path) -> None:
    header: list[Any] = ["source_row", "Reference", "Claimant Name", "Appointment", "outcome"]
    header += ["reference", "appointment_id", "status", "meeting_url", "error"]
    rows = [
        header,
        [2, "SQ-1", "Siân", datetime(2026, 12, 1, 9), "created", "SQ-1", "uuid-1", "scheduled"],
        [3, None, "Rhys", datetime(2026, 12, 1, 10), "invalid", None, None, None, None, "bad"],
    ]
    path = openpyxl_book(tmp_path, {"Summary": [["rows", 2]], "Results": rows})
    table = read_table(path, kind="cancel")
    assert table.source.sheet == "Results"
    assert table.fields == {"reference": "reference", "appointment_id": "appointment_id"}
    assert column(table, "appointment_id") == ["uuid-1", None]
    assert table.issues == ()  # our own columns are not "unknown"


def test_our_results_workbook_reads_back_as_cancel_input(tmp_path: Path) -> None:
    """Results put the input's columns first (each at its own letter), then source_row and
    ours: `cancel` still takes our appointment_id and reference, not the input's."""
    text = "Reference,Claimant name,Appointment,Notes\nSQ-1,Siân,01/12/2026 09:00,a\n,Rhys,x,b\n"
    path = write(tmp_path, "in.csv", text)
    table = read_table(path, kind="book")
    lines = [
        ResultLine(Outcome.CREATED, reference="SQ-1", appointment_id="uuid-1", attempts=1),
        ResultLine(Outcome.INVALID, reference="BS-DERIVED", error="bad"),
    ]
    out = tmp_path / "results.xlsx"
    write_results(out, table=table, lines=lines, issues=[], summary={"command": "book"})

    again = read_table(out, kind="cancel")
    assert again.source.sheet == "Results"
    assert again.fields == {"reference": "reference", "appointment_id": "appointment_id"}
    assert column(again, "appointment_id") == ["uuid-1", None]
    assert column(again, "reference") == ["SQ-1", "BS-DERIVED"]
    assert again.issues == ()  # the input's columns are not "unknown" either


# ---------------------------------------------------------------- files that cannot be used


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"in\.csv is empty"):
        read_table(write(tmp_path, "in.csv", b""), kind="book")


def test_only_blank_lines_has_no_header(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no header row"):
        read_table(write(tmp_path, "in.csv", "\n,,\n  \n"), kind="book")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_header_only_is_a_table_with_no_rows(tmp_path: Path, fmt: str) -> None:
    if fmt == "csv":
        path = write(tmp_path, "in.csv", "Claimant name,Appointment,Notes\n")
    else:
        path = openpyxl_book(tmp_path, {"S": [["Claimant name", "Appointment", "Notes"]]})
    table = read_table(path, kind="book")
    assert len(table) == 0 and table.frame.shape == (0, 3)
    assert table.keys == ("Claimant name", "Appointment", "Notes")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"\.xls file.*password"),
        ("renamed.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"Excel 97-2003"),
        ("noise.csv", bytes(range(256)) * 40, "binary data"),
        ("report.pdf.csv", b"%PDF-1.7\n" + bytes(range(256)), "PDF"),
        ("page.xlsx", b"<!DOCTYPE html><html><table><tr><td>x</td></tr></table>", "HTML"),
        ("broken.xlsx", b"PK\x03\x04" + bytes(100), "damaged"),
    ],
)
def test_unusable_files_give_a_clear_input_error(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    with pytest.raises(InputError, match=expected) as raised:
        read_table(write(tmp_path, name, content), kind="book")
    assert name in raised.value.message
    assert "save it as .xlsx" in raised.value.message.lower()


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(InputError, match=r"OpenDocument spreadsheet \(\.ods\)"):
        read_table(path, kind="book")


def test_format_is_decided_by_content_not_extension(tmp_path: Path) -> None:
    xlsx_named_csv = openpyxl_book(tmp_path, {"S": [["Name", "Slot"], ["Siân", "x"]]}, "a.csv")
    assert read_table(xlsx_named_csv, kind="book").source.format == "xlsx"
    csv_named_xlsx = write(tmp_path, "b.xlsx", "Name,Slot\nSiân,x\n")
    assert read_table(csv_named_xlsx, kind="book").source.format == "csv"


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv", kind="book")


def test_max_rows_and_max_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "in.csv", f"{BOOK_HEADER}\na,x\n\nb,y\nc,z\n")
    assert len(read_table(path, kind="book", settings=IntakeSettings(max_rows=3))) == 3
    with pytest.raises(InputError, match=r"3 rows; the limit is 2 .*Split"):
        read_table(path, kind="book", settings=IntakeSettings(max_rows=2))
    with pytest.raises(InputError, match="the limit is"):
        read_table(path, kind="book", settings=IntakeSettings(max_file_bytes=10))


def test_source_info_identifies_the_exact_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "in.csv", f"{BOOK_HEADER}\nSiân,x\n")
    source = read_table(path, kind="book").source
    data = path.read_bytes()
    assert (source.name, source.size_bytes, source.format, source.sheet) == (
        "in.csv",
        len(data),
        "csv",
        None,
    )
    assert source.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (702, "AAA")]
)
def test_column_letter(index: int, letter: str) -> None:
    assert column_letter(index) == letter


# ---------------------------------------------------------------- the sample data


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    today = date(2031, 1, 8)  # a Wednesday; the spring-forward night is 2031-03-30
    return write_samples(tmp_path_factory.mktemp("samples"), today)


def test_sample_book_xlsx_and_csv_hold_the_same_rows(samples: dict[str, Path]) -> None:
    xlsx = read_table(samples["book.xlsx"], kind="book")
    csv = read_table(samples["book.csv"], kind="book")
    assert len(xlsx) == len(csv) == 40
    assert xlsx.fields == csv.fields and "appointment_at" in xlsx.fields
    assert column(xlsx, "claimant_name") == column(csv, "claimant_name")
    assert [i.header for i in xlsx.issues] == [i.header for i in csv.issues] == ["Notes"]
    refs = column(xlsx, "reference")
    assert all(ref in refs for ref in MISTAKES)
    phones_x = dict(zip(refs, column(xlsx, "claimant_phone_number"), strict=True))
    phones_c = dict(zip(refs, column(csv, "claimant_phone_number"), strict=True))
    assert phones_x["SQ-1007"] == 2920180123 and phones_c["SQ-1007"] == "2920180123"
    assert phones_x["SQ-1012"] == 441134960123 and phones_c["SQ-1012"] == "4.41134960123E+11"
    slots = [v for v in column(xlsx, "appointment_at") if isinstance(v, datetime)]
    assert min(slots) == datetime(2031, 1, 5, 10, 0)  # the one deliberately in the past
    assert datetime(2031, 3, 30, 1, 30) in slots  # clocks go forward that night
    usual = [s for s in slots if s.year == 2031 and s.month == 1 and s.day > 5]
    assert len(usual) >= 30  # a few rows write the slot as ISO text instead
    assert all(date(2031, 1, 10) <= s.date() <= date(2031, 1, 28) for s in usual)
    assert all(s.weekday() < 5 and time(9) <= s.time() <= time(16, 30) for s in usual)


def test_sample_cancel_csv_reads_as_cancel_input(samples: dict[str, Path]) -> None:
    table = read_table(samples["cancel.csv"], kind="cancel")
    assert set(table.fields) == {"reference", "cancellation_reason"}
    assert len(table) == 6 and table.issues == ()


# ---------------------------------------------------------------- process-wide switches


@pytest.mark.parametrize("name", ["in.xlsx", "in.csv"])
def test_reading_leaves_the_cycle_collector_to_the_run(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Process-wide switches are the run boundary's to flip (runtime.py), never the reader's."""
    rows = [["Claimant name", "Appointment"], ["Siân", "14/07/2026 14:30"]]
    if name.endswith(".xlsx"):
        path = openpyxl_book(tmp_path, {"Book": rows})
    else:
        path = write(tmp_path, name, "\n".join(",".join(row) for row in rows) + "\n")
    flipped: list[str] = []
    for switch in ("disable", "enable", "freeze", "unfreeze"):
        monkeypatch.setattr(gc, switch, lambda switch=switch: flipped.append(switch))
    table = read_table(path, kind="book")
    assert len(table) == 1 and table.position_of(2) == 0
    assert flipped == []
