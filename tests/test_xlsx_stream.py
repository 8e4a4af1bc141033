"""The streaming xlsx writer, checked by two independent readers: openpyxl and calamine."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from batch_scheduler.xlsx_cells import column_letter
from batch_scheduler.xlsx_stream import StreamBook, excel_serial, is_dangerous

HOSTILE = (
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "+447400900123",
)
AWKWARD = (
    "a\x01b\x1fc",  # control characters XML cannot hold
    "_x0041_",  # looks like Excel's own escape
    "x & <y> \"z\" 'w'",
    "  padded  ",
    "tab\tand\nnewline\r\nand CRLF",
    "accents é ñ and emoji 😀",
    "\ufffe\uffff",  # not characters in XML: become U+FFFD
)


def calamine_rows(path: Path, name: str) -> list[list[Any]]:
    rows: list[list[Any]] = (
        CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    )
    return rows


def test_values_keep_their_types_in_both_readers(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    row = ["text", 42, 3.25, True, False, datetime(2030, 1, 2, 9, 30), date(1985, 2, 14)]
    row += [time(14, 30), None, "", 10**15, -0.5]
    with StreamBook(path) as book:
        book.add_sheet("S").append(row)

    got = [c.value for c in load_workbook(path)["S"][1]]
    assert got == [*row[:6], datetime(1985, 2, 14), time(14, 30), None, None, 10**15, -0.5]
    assert got[1] == 42 and isinstance(got[1], int)
    cal = calamine_rows(path, "S")[0]
    assert cal[:8] == ["text", 42, 3.25, True, False, datetime(2030, 1, 2, 9, 30),
                       date(1985, 2, 14), time(14, 30)]  # fmt: skip
    assert cal[8:10] == ["", ""] and cal[10:] == [10**15, -0.5]


def test_hostile_text_is_a_text_cell_with_quote_prefix(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    fill = "#FFC7CE"
    with StreamBook(path) as book:
        sheet = book.add_sheet("S")
        sheet.append(HOSTILE)
        sheet.append(HOSTILE, [book.style(fill=fill)] * len(HOSTILE))
        sheet.append(["plain", "a=b"])

    ws = load_workbook(path)["S"]
    for r in (1, 2):
        for cell, text in zip(ws[r], HOSTILE, strict=True):
            assert cell.data_type == "s" and cell.quotePrefix, text
    assert all(c.fill.fgColor.rgb == "FFFFC7CE" for c in ws[2])  # fill kept with the quote
    assert not any(c.quotePrefix for c in ws[3])
    assert calamine_rows(path, "S")[0] == list(HOSTILE)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_awkward_text_survives_exactly(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        book.add_sheet("S").append(AWKWARD)

    assert calamine_rows(path, "S")[0] == [
        "a\x01b\x1fc", "_x0041_", "x & <y> \"z\" 'w'", "  padded  ",
        "tab\tand\nnewline\r\nand CRLF", "accents é ñ and emoji 😀", "\ufffd\ufffd",
    ]  # fmt: skip
    # openpyxl does not undo Excel's _xHHHH_ escapes, but sees the XML-legal text exactly
    got = [c.value for c in load_workbook(path)["S"][1]]
    assert got[2:4] == ["x & <y> \"z\" 'w'", "  padded  "]
    assert got[5] == "accents é ñ and emoji 😀"


def test_lone_surrogate_and_too_long_text_do_not_break_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        book.add_sheet("S").append(["bad \udc80 byte", "x" * 40_000])

    assert calamine_rows(path, "S")[0] == ["bad \ufffd byte", "x" * 32_767]


def test_styles_links_notes_layout(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    url = "https://meet.example.org/r/1?a=1&b=<2>"
    with StreamBook(path) as book:
        bold, red = book.style(bold=True), book.style(fill="#FFC7CE")
        sheet = book.add_sheet("Results", widths=[10, 40, 12], freeze_header=True)
        sheet.append(["name", "link", "when"], [bold, bold, bold])
        sheet.append([None, url, datetime(2030, 1, 2, 9, 0)], [red, book.link_style(), red])
        sheet.add_link(1, 1, url)
        sheet.add_note(1, 0, "Error (required): give a <name> & try again.\nSecond line.")
        sheet.append(["b", "not a link", None])
        sheet.autofilter()

    ws = load_workbook(path)["Results"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C3"
    assert [ws.column_dimensions[c].width for c in "ABC"] == [10, 40, 12]
    assert all(c.font.b for c in ws[1]) and not ws["A3"].font.b
    assert ws["A2"].value is None and ws["A2"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["A2"].comment.text == "Error (required): give a <name> & try again.\nSecond line."
    assert ws["B2"].hyperlink.target == url and ws["B2"].value == url
    assert ws["B3"].hyperlink is None and ws["B3"].comment is None
    when = ws["C2"]
    assert when.value == datetime(2030, 1, 2, 9, 0) and when.number_format == "yyyy-mm-dd hh:mm"
    assert when.fill.fgColor.rgb == "FFFFC7CE"


def test_many_notes_and_several_sheets_make_well_formed_parts(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        first = book.add_sheet("It's first")
        for r in range(1_100):  # past one VML id block of 1024 shapes
            first.append([f"row {r}"])
            first.add_note(r, 0, f"note {r}")
        first.autofilter()
        second = book.add_sheet("Second")
        second.append([1, 2])
        second.add_note(0, 1, "on the second sheet")

    book_ = load_workbook(path)
    assert book_.sheetnames == ["It's first", "Second"]
    notes = [c.comment and c.comment.text for row in book_["It's first"].iter_rows() for c in row]
    assert notes == [f"note {r}" for r in range(1_100)]
    assert book_["Second"]["B1"].comment.text == "on the second sheet"
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            ElementTree.fromstring(archive.read(name))  # every part is well-formed XML
        workbook = archive.read("xl/workbook.xml").decode()
    assert "'It''s first'!$A$1:$A$1100" in workbook


def test_an_error_inside_leaves_an_unfinished_file_for_the_caller_to_delete(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.xlsx"
    with pytest.raises(RuntimeError, match="boom"), StreamBook(path) as book:
        book.add_sheet("S").append(["a"])
        raise RuntimeError("boom")
    with zipfile.ZipFile(path) as archive:
        assert "xl/workbook.xml" not in archive.namelist()


@pytest.mark.parametrize(
    ("value", "serial"),
    [
        (datetime(2030, 1, 2, 9, 0), 47485.375),
        (date(1900, 3, 1), 61),
        (date(1900, 2, 28), 59),  # before Excel's phantom 29 Feb 1900
        (date(1900, 1, 1), 1),
        (time(12, 0), 0.5),
    ],
)
def test_excel_serial(value: Any, serial: float) -> None:
    assert excel_serial(value) == serial


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702, 16_383)] == [
        "A", "Z", "AA", "ZZ", "AAA", "XFD",
    ]  # fmt: skip


def test_dangerous_is_the_first_character_only() -> None:
    assert all(is_dangerous(text) for text in HOSTILE)
    assert not any(is_dangerous(text) for text in ("", "a=1", " =1", "07400 900123"))
