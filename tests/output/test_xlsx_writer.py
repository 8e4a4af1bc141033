"""The streaming xlsx writer, checked by two independent readers: openpyxl and calamine."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from batch_scheduler.columns import column_letter
from batch_scheduler.output.xlsx.layout import Page
from batch_scheduler.output.xlsx.writer import StreamBook
from batch_scheduler.output.xlsx.xml_text import excel_serial, is_dangerous

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
    assert when.value == datetime(2030, 1, 2, 9, 0) and when.number_format == "dd/mm/yyyy hh:mm"
    assert when.fill.fgColor.rgb == "FFFFC7CE"


def test_rows_at_their_own_numbers_with_heights_and_wrapped_text(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        sheet = book.add_sheet("S", widths=[10, 12])
        sheet.append(["header", "second"])
        sheet.append(["on row 4", "long text " * 5], [None, book.wrapped(None)], row=3, height=40)
        sheet.append(["on row 5"])
        with pytest.raises(ValueError, match="comes after"):
            sheet.append(["back up"], row=2)

    ws = load_workbook(path)["S"]
    assert [ws.cell(r, 1).value for r in range(1, 6)] == [
        "header",
        None,
        None,
        "on row 4",
        "on row 5",
    ]
    assert ws.row_dimensions[4].height == 40 and ws.row_dimensions[4].customHeight
    assert ws["B4"].alignment.wrap_text and not ws["A4"].alignment.wrap_text
    assert ws["A4"].alignment.vertical == "top"  # a cell sits at the top of a tall row
    assert calamine_rows(path, "S")[3][0] == "on row 4"


@pytest.mark.parametrize("extent", [None, (5, 3)])
def test_read_only_readers_see_every_row_whole(
    tmp_path: Path, extent: tuple[int, int] | None
) -> None:
    """openpyxl's read-only mode sizes rows by their cells, or by the declared extent."""
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        sheet = book.add_sheet("S", extent=extent)
        sheet.append(["a", "b", "c"])
        sheet.append(["x", None, None], row=3)  # a trailing empty cell
        sheet.append([None, None, None], row=4)

    rows = list(load_workbook(path, read_only=True)["S"].iter_rows(values_only=True))
    written = [rows[0], rows[3], rows[4]]
    assert written == [("a", "b", "c"), ("x", None, None), (None, None, None)]
    if extent:  # the rows left blank come whole too
        assert rows[1:3] == [(None, None, None)] * 2


def test_page_setup_prints_landscape_one_page_wide_with_the_header_on_every_page(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        sheet = book.add_sheet("It's wide", widths=[10, 20, 30], page=Page())
        for r in range(5):
            sheet.append([r, "x", "y"])
        sheet.print_area(2)
        book.add_sheet("Plain").append(["no page setup"])

    wb = load_workbook(path)
    ws = wb["It's wide"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$1"
    assert ws.print_area == "'It''s wide'!$A$1:$B$5"
    assert ws.print_options.gridLines
    assert "Page &P of &N" in ws.oddFooter.right.text
    plain = wb["Plain"]
    assert plain.print_title_rows is None and not plain.sheet_properties.pageSetUpPr.fitToPage


def test_links_to_a_cell_and_to_the_web(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        first = book.add_sheet("Results")
        first.append(["a", "https://example.org/1"])
        first.add_link(0, 1, "https://example.org/1")
        issues = book.add_sheet("Issues")
        issues.append([14, "https://example.org/2"])
        issues.add_link(0, 0, location="'Results'!F14")
        issues.add_link(0, 1, "https://example.org/2")
        with pytest.raises(ValueError, match="url or to a location"):
            issues.add_link(0, 0)

    wb = load_workbook(path)
    assert wb["Results"]["B1"].hyperlink.target == "https://example.org/1"
    link = wb["Issues"]["A1"].hyperlink
    assert link.location == "'Results'!F14" and link.target is None
    assert wb["Issues"]["B1"].hyperlink.target == "https://example.org/2"


def vml_anchor(path: Path, sheet: int = 1) -> list[list[int]]:
    with zipfile.ZipFile(path) as archive:
        vml = archive.read(f"xl/drawings/vmlDrawing{sheet}.vml").decode()
    return [[int(n) for n in a.split(",")] for a in re.findall(r"<x:Anchor>(.*?)</x:Anchor>", vml)]


def test_a_note_box_is_as_tall_as_its_text_whatever_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with StreamBook(path) as book:
        sheet = book.add_sheet("S", widths=[10, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 60])
        for _ in range(30):
            sheet.append(["x"] * 12)
        sheet.add_note(1, 0, "Short.")
        sheet.add_note(1, 10, "Error (invalid-phone): a longer message, " * 6)

    short, long = vml_anchor(path)
    # columns 1.. are 5 characters (35 px) wide: a 320 px box spans about 9 of them
    assert short[0] == 1 and short[4] >= 9
    assert long[0] == 11 and long[4] == 11  # column 11 is 60 characters: the box fits in it
    assert long[6] - long[2] > short[6] - short[2] >= 1  # more text, more rows


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
