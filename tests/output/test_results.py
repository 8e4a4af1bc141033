"""The results/report workbook and summary JSON, reopened and checked cell by cell."""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from batch_scheduler.columns import RESULT_COLUMNS
from batch_scheduler.config import ENV_NOW
from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity
from batch_scheduler.output import summary_counts, write_results, write_summary_json
from tests.support.cli import invoke
from tests.support.results import created, make_table
from tests.support.sheets import BOOK_HEADERS, NOW, book_row

FORMULA_LIKE = ('=HYPERLINK("http://evil.example","click")', "=1+1", "+447700900123", "@SUM(A1)")
ERR, WARN = Severity.ERROR, Severity.WARNING


def write(tmp_path: Path, table: RawTable, lines: Sequence[ResultLine], **kw: Any) -> Path:
    path = tmp_path / "results.xlsx"
    kw.setdefault("issues", [])
    kw.setdefault("summary", {"command": "book"})
    write_results(path, table=table, lines=lines, **kw)
    return path


def sheet(path: Path, name: str = "Results") -> Worksheet:
    return load_workbook(path)[name]


def header(ws: Worksheet) -> list[Any]:
    return [c.value for c in ws[1]]


def col(ws: Worksheet, name: str) -> int:
    return header(ws).index(name) + 1


def sheet_xml(path: Path) -> Iterator[str]:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                yield archive.read(name).decode("utf-8")


# ---------------------------------------------------------------- layout and echo


def test_header_is_input_headers_then_source_row_then_result_columns(tmp_path: Path) -> None:
    table = make_table(
        {"Notes": ["a"], "Notes (2)": ["b"], "Phone": ["07700 900123"]},
        headers=["Notes", "Notes", " Phone "],
    )
    ws = sheet(write(tmp_path, table, [created(0)]))

    assert header(ws) == ["Notes", "Notes", " Phone ", "source_row", *RESULT_COLUMNS]
    assert [c.value for c in ws[2]][:4] == ["a", "b", "07700 900123", 2]
    assert ws.max_row == 2


def test_input_cells_keep_their_own_row_and_column_letter(tmp_path: Path) -> None:
    """The reader skips blank columns and rows; Results leaves them blank, so every input
    cell is at the address the issues name (here C3 is blank: the input's column C was)."""
    table = make_table({"Ref": ["R1", "R2"], "Name": ["Ann", "Bob"], "Phone": ["1", "2"]})
    table = replace(table, letters=("A", "B", "D"), source_rows=(3, 6))
    ws = sheet(write(tmp_path, table, [created(0), created(1)]))

    assert header(ws) == ["Ref", "Name", None, "Phone", "source_row", *RESULT_COLUMNS]
    assert [ws[f"{c}3"].value for c in "ABCDE"] == ["R1", "Ann", None, "1", 3]
    assert [ws[f"{c}6"].value for c in "ABCDE"] == ["R2", "Bob", None, "2", 6]
    assert all(ws.cell(r, 1).value is None for r in (2, 4, 5))
    assert ws.column_dimensions["C"].width < 3  # the blank column takes no room
    assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}6"


def test_read_only_readers_get_whole_rows(tmp_path: Path) -> None:
    """A script reading Results with openpyxl's read-only mode (as ETL jobs do) gets every
    row as wide as the header, blank rows included, even where the last cells are empty."""
    table = replace(make_table({"A": ["x", "y"]}), letters=("B",), source_rows=(2, 4))
    lines = [created(0), ResultLine(Outcome.INVALID, error="bad")]  # no meeting_url
    path = write(tmp_path, table, lines)

    rows = list(load_workbook(path, read_only=True)["Results"].iter_rows(values_only=True))
    assert len(rows) == 4 and {len(r) for r in rows} == {len(rows[0])}
    assert rows[2] == (None,) * len(rows[0])
    assert dict(zip(rows[0], rows[3], strict=True))["error"] == "bad"


@pytest.mark.parametrize(
    ("letters", "rows"),
    [(("B", "A"), (2, 3)), (("A", "B"), (3, 2)), (("A", "B"), (2, 1_048_577))],
)
def test_addresses_that_cannot_be_kept_are_packed(
    tmp_path: Path, letters: tuple[str, ...], rows: tuple[int, ...]
) -> None:
    table = replace(
        make_table({"X": ["x0", "x1"], "Y": ["y0", "y1"]}), letters=letters, source_rows=rows
    )
    ws = sheet(write(tmp_path, table, [created(0), created(1)]))

    assert header(ws)[:3] == ["X", "Y", "source_row"]
    assert [[c.value for c in ws[r]][:3] for r in (2, 3)] == [
        ["x0", "y0", rows[0]],
        ["x1", "y1", rows[1]],
    ]


def test_input_values_are_echoed_exactly_with_their_types(tmp_path: Path) -> None:
    moment = datetime(2030, 12, 3, 14, 30)
    table = make_table(
        {
            "Ref": ["007", "0"],
            "Phone": ["+447700900123", None],
            "Count": [42, np.int64(7)],
            "Ratio": [3.25, float("nan")],
            "When": [moment, pd.Timestamp("2030-01-02 08:15:30")],
            "Day": [date(1985, 2, 14), pd.NaT],
            "At": [time(14, 30), pd.NA],
            "Flag": [True, False],
        }
    )
    ws = sheet(write(tmp_path, table, [created(0), created(1)]))

    row2 = {h: ws.cell(2, i + 1) for i, h in enumerate(header(ws))}
    row3 = {h: ws.cell(4, i + 1) for i, h in enumerate(header(ws))}  # source row 4
    assert (row2["source_row"].value, row3["source_row"].value) == (2, 4)
    assert (row2["Ref"].value, row2["Ref"].data_type) == ("007", "s")
    assert (row3["Ref"].value, row3["Ref"].data_type) == ("0", "s")
    assert (row2["Phone"].value, row2["Phone"].data_type) == ("+447700900123", "s")
    assert row3["Phone"].value is None
    assert row2["Count"].value == 42 and isinstance(row2["Count"].value, int)
    assert row3["Count"].value == 7
    assert row2["Ratio"].value == 3.25
    assert row3["Ratio"].value is None  # NaN is a missing value, not a number
    assert row2["When"].value == moment and row2["When"].is_date
    assert row2["When"].number_format == "dd/mm/yyyy hh:mm"  # day first, as ops write them
    assert row3["When"].value == datetime(2030, 1, 2, 8, 15, 30)
    assert row3["When"].number_format == "dd/mm/yyyy hh:mm:ss"  # seconds are not hidden
    assert row2["Day"].value == datetime(1985, 2, 14) and row2["Day"].number_format == "dd/mm/yyyy"
    assert row3["Day"].value is None and row3["At"].value is None
    assert row2["At"].value == time(14, 30) and row2["At"].number_format == "hh:mm"
    assert (row2["Flag"].value, row3["Flag"].value) == (True, False)


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like_input_and_results_are_text(tmp_path: Path, text: str) -> None:
    table = make_table({"Name": [text], "Other": ["-2+3"]})
    line = created(0, error=text, status=text, reference=text, appointment_id=text)
    path = write(tmp_path, table, [line], summary={"input file": text})

    ws = sheet(path)
    for name in ("Name", "error", "status", "reference", "appointment_id"):
        cell = ws.cell(2, col(ws, name))
        assert (cell.value, cell.data_type) == (text, "s"), name
        assert cell.quotePrefix, name  # editing the cell in Excel keeps it text
    summary = sheet(path, "Summary")
    assert (summary["B1"].value, summary["B1"].data_type) == (text, "s")
    assert not ws.cell(2, col(ws, "outcome")).quotePrefix  # ordinary text: no prefix
    for xml in sheet_xml(path):
        assert "<f>" not in xml and "<f " not in xml


def test_control_characters_and_escape_lookalikes_survive(tmp_path: Path) -> None:
    table = make_table({"Notes": ["a\x01b", "_x0041_", "tab\tand\nnewline"]})
    path = write(tmp_path, table, [created(j) for j in range(3)])

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Results").to_python()
    assert [rows[r - 1][0] for r in table.source_rows] == ["a\x01b", "_x0041_", "tab\tand\nnewline"]


def test_text_longer_than_a_cell_holds_is_cut_not_fatal(tmp_path: Path) -> None:
    table = make_table({"Notes": ["x" * 40_000]})
    ws = sheet(write(tmp_path, table, [created(0, error="e" * 40_000)]))

    assert ws["A2"].value == "x" * 32_767
    assert len(str(ws.cell(2, col(ws, "error")).value)) <= 32_767


def test_aware_input_times_keep_their_wall_clock(tmp_path: Path) -> None:
    moment = datetime(2030, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    ws = sheet(write(tmp_path, make_table({"When": [moment]}), [created(0)]))

    assert ws["A2"].value == datetime(2030, 7, 1, 10, 0)  # as the sheet showed it


def test_too_many_columns_is_refused(tmp_path: Path) -> None:
    table = make_table({f"c{i}": [i] for i in range(16_380)})
    with pytest.raises(ValueError, match="do not fit"):
        write(tmp_path, table, [created(0)])


def test_table_without_input_columns(tmp_path: Path) -> None:
    table = make_table({"A": [1, 2]})
    table = RawTable(table.frame[[]], (), (), (), table.source_rows, {}, table.source, "book")
    ws = sheet(write(tmp_path, table, [created(0), created(1)]))

    assert header(ws) == ["source_row", *RESULT_COLUMNS]
    assert [ws.cell(r, 2).value for r in (2, 4)] == ["created", "created"]


# ---------------------------------------------------------------- result columns


def test_result_values_links_and_utc_time(tmp_path: Path) -> None:
    london = datetime(2030, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))  # BST: 09:00 UTC
    lines = [
        created(0, appointment_at_utc=london, attempts=3),
        ResultLine(Outcome.FAILED, reference="REF-001", error="The API timed out.", attempts=7),
    ]
    ws = sheet(write(tmp_path, make_table({"Name": ["a", "b"]}), lines))

    at = ws.cell(2, col(ws, "appointment_at_utc"))
    assert at.value == datetime(2030, 7, 1, 9, 0) and at.number_format == "dd/mm/yyyy hh:mm"
    assert "UTC" in str(ws.cell(1, col(ws, "appointment_at_utc")).value).upper()
    link = ws.cell(2, col(ws, "meeting_url"))
    assert link.value == "https://meet.example.org/c/0"
    assert link.hyperlink is not None and link.hyperlink.target == link.value
    assert [c.value for c in ws[4]] == [
        "b", 4, "failed", "REF-001", None, None, None, "The API timed out.", 7, None,
    ]  # fmt: skip
    assert ws.cell(2, col(ws, "attempts")).value == 3


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example/x", "see https://x.y"])
def test_only_web_urls_become_links(tmp_path: Path, url: str) -> None:
    ws = sheet(write(tmp_path, make_table({"Name": ["a"]}), [created(0, meeting_url=url)]))

    cell = ws.cell(2, col(ws, "meeting_url"))
    assert (cell.value, cell.data_type, cell.hyperlink) == (url, "s", None)


def test_host_url_only_with_include_host_links(tmp_path: Path) -> None:
    table = make_table({"Name": ["a"]})
    without = sheet(write(tmp_path, table, [created(0)]))
    assert "host_url" not in header(without)
    assert not any("/h/0" in str(c.value) for row in without.iter_rows() for c in row)

    with_links = sheet(write(tmp_path, table, [created(0)], include_host_links=True))
    assert header(with_links)[-1] == "host_url"
    host = with_links.cell(2, col(with_links, "host_url"))
    assert host.value == "https://meet.example.org/h/0"
    assert host.hyperlink is not None and host.hyperlink.target == host.value


def test_outcome_cells_are_coloured_by_outcome(tmp_path: Path) -> None:
    outcomes = [Outcome.CREATED, Outcome.REJECTED, Outcome.INVALID, Outcome.FAILED]
    outcomes += [Outcome.NOT_ATTEMPTED, Outcome.ALREADY_EXISTS]
    lines = [ResultLine(o) for o in outcomes]
    ws = sheet(write(tmp_path, make_table({"N": list(range(len(lines)))}), lines))

    fills = [ws.cell(r, 3).fill.fgColor.rgb for r in range(2, 2 * len(lines) + 2, 2)]
    green, amber, red, grey = "FFC6EFCE", "FFFFEB9C", "FFFFC7CE", "FFD9D9D9"
    assert fills == [green, amber, amber, red, grey, green]


def test_layout_frozen_header_filter_and_widths(tmp_path: Path) -> None:
    table = make_table({"Email": ["someone.with.a.long.address@example.org"], "X": ["1"]})
    ws = sheet(write(tmp_path, table, [created(0)]))

    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}2"
    assert ws.column_dimensions["A"].width > 35  # sized from the value
    assert ws.column_dimensions["B"].width < 15
    assert all(c.font.b for c in ws[1])
    # on paper: A4 landscape, one page wide, the header row on every page, the links
    # (last, for clicking) left off
    assert (ws.page_setup.orientation, ws.page_setup.paperSize) == ("landscape", 9)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$1"
    assert header(ws)[-1] == "meeting_url"
    assert ws.print_area == f"'Results'!$A$1:${get_column_letter(ws.max_column - 1)}$2"


def test_long_text_wraps_and_its_row_grows(tmp_path: Path) -> None:
    words = "Excel turned this phone number into a number and dropped the leading 0. " * 3
    table = make_table({"Notes": ["short", words]})
    lines = [created(0), ResultLine(Outcome.INVALID, error=words)]
    ws = sheet(write(tmp_path, table, lines))

    error = ws.cell(4, col(ws, "error"))
    assert error.alignment.wrap_text and ws["A4"].alignment.wrap_text
    assert ws.column_dimensions[error.column_letter].width <= 40
    assert ws.row_dimensions[4].height >= 4 * 12.75  # tall enough for its lines
    assert not ws["A2"].alignment.wrap_text and ws.row_dimensions[2].height is None


def test_date_only_columns_show_dates_as_the_input_did(tmp_path: Path) -> None:
    table = make_table(
        {
            "DOB": [datetime(1985, 2, 14), datetime(1990, 6, 1), None],
            "Slot": [datetime(2030, 1, 2, 9, 30), datetime(2030, 1, 3), datetime(2030, 1, 3, 0, 0)],
        }
    )
    ws = sheet(write(tmp_path, table, [created(j) for j in range(3)]))

    assert ws["A2"].value == datetime(1985, 2, 14) and ws["A2"].number_format == "dd/mm/yyyy"
    assert ws["A4"].number_format == "dd/mm/yyyy"
    assert ws["B2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["B4"].number_format == "dd/mm/yyyy hh:mm"  # a midnight slot keeps its time


def test_more_links_than_excel_allows_fall_back_to_text(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("batch_scheduler.output.results_sheet.MAX_LINKS", 2)
    lines = [created(j) for j in range(3)]
    ws = sheet(write(tmp_path, make_table({"N": [1, 2, 3]}), lines))

    cells = [ws.cell(r, col(ws, "meeting_url")) for r in (2, 4, 6)]
    assert [c.value for c in cells] == [line.meeting_url for line in lines]
    assert [c.hyperlink is not None for c in cells] == [True, True, False]


# ---------------------------------------------------------------- issues


def issue(code: str, severity: Severity, row: int | None, column: str | None, **kw: Any) -> Issue:
    return Issue(code, severity, f"Message for {code}.", row=row, column=column, **kw)


def test_problem_cells_are_filled_and_commented(tmp_path: Path) -> None:
    table = make_table(
        {"Name": ["a", None, "c"], "Phone": ["1", "2", "3"], "Email": ["x", "y", "z"]}
    )
    issues = [
        issue("invalid-phone", ERR, 2, "B", value="1"),
        issue("phone-mangled", WARN, 2, "B"),  # a second issue on the same cell
        issue("required", ERR, 4, "A"),  # on an empty cell
        issue("invalid-email", WARN, 6, "C"),
        issue("in-past", ERR, 6, None),  # row-level: on the outcome cell
        issue("unknown-column", WARN, None, "C"),  # file-level: Issues sheet only
        issue("ghost", ERR, 99, "A"),  # a row not in the table: Issues sheet only
    ]
    lines = [ResultLine(Outcome.INVALID), ResultLine(Outcome.INVALID), created(2)]
    ws = sheet(write(tmp_path, table, lines, issues=issues))

    phone = ws["B2"]  # exactly where the issue says: row 2, column B
    assert phone.value == "1" and phone.fill.fgColor.rgb == "FFFFC7CE"
    assert phone.comment.text.splitlines() == [
        "Error (invalid-phone): Message for invalid-phone.",
        "Warning (phone-mangled): Message for phone-mangled.",
    ]
    name = ws["A4"]
    assert name.value is None and name.fill.fgColor.rgb == "FFFFC7CE"
    assert "Message for required." in name.comment.text
    email = ws["C6"]
    assert email.value == "z" and email.fill.fgColor.rgb == "FFFFF2CC"
    outcome = ws.cell(6, col(ws, "outcome"))
    assert outcome.comment is not None
    assert outcome.comment.text == "Error (in-past): Message for in-past."
    commented = {c.coordinate for row in ws.iter_rows() for c in row if c.comment}
    assert commented == {"B2", "A4", "C6", outcome.coordinate}
    unmarked = [ws["A2"], ws["C2"], ws["B4"], ws["A6"]]
    assert all(c.fill.fgColor.rgb in (None, "00000000") for c in unmarked)
    errors = [ws.cell(r, col(ws, "error")).value for r in (2, 4, 6)]
    assert errors == ["Message for invalid-phone.", "Message for required.", "Message for in-past."]


def test_line_error_wins_over_issue_messages(tmp_path: Path) -> None:
    table = make_table({"Name": ["a"]})
    line = ResultLine(Outcome.REJECTED, error="The API said no.")
    ws = sheet(write(tmp_path, table, [line], issues=[issue("required", ERR, 2, "A")]))

    assert ws.cell(2, col(ws, "error")).value == "The API said no."


def test_issues_sheet_has_one_row_per_issue_in_order(tmp_path: Path) -> None:
    issues = [
        issue("unknown-column", WARN, None, "C", header="Notes"),
        issue("invalid-phone", ERR, 2, "B", header="Phone", value="=0123"),
        issue("duplicate-reference", ERR, 4, None),
    ]
    table = make_table({"A": [1, 2], "Phone": ["=0123", "1"]})
    path = write(tmp_path, table, [created(0), created(1)], issues=issues)

    ws = sheet(path, "Issues")
    rows = list(ws.iter_rows(values_only=True))
    assert rows == [
        ("source_row", "column", "header", "value", "code", "severity", "message"),
        (None, "C", "Notes", None, "unknown-column", "warning", "Message for unknown-column."),
        (2, "B", "Phone", "=0123", "invalid-phone", "error", "Message for invalid-phone."),
        (4, None, None, None, "duplicate-reference", "error", "Message for duplicate-reference."),
    ]
    assert ws["D3"].data_type == "s"
    # the row number takes you to the cell that shows the issue (a row's own: its outcome)
    assert ws["A2"].hyperlink is None
    assert ws["A3"].hyperlink.location == "'Results'!B2"
    assert ws["A4"].hyperlink.location == "'Results'!D4"  # A, B, source_row, then outcome
    assert "input sheet" in ws["A1"].comment.text and "Results" in ws["A1"].comment.text
    assert "column letter in your input sheet" in ws["B1"].comment.text
    assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1"
    assert ws.column_dimensions["A"].width >= len("source_row") + 1  # headers do not overlap


def test_sheets_are_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, make_table({"A": [1]}), [created(0)])
    assert load_workbook(path).sheetnames == ["Results", "Summary", "Issues"]


# ---------------------------------------------------------------- summary


SUMMARY: dict[str, object] = {
    "command": "book",
    "input file": "week 12.xlsx",
    "sha256": "ab" * 32,
    "rows read": 3,
    "started": datetime(2030, 1, 2, 9, 0, tzinfo=UTC),
    "duration (s)": 12.5,
    "dry run": False,
    "options": {"rate": 10.0, "concurrency": 8},
}
LINES = [created(0), ResultLine(Outcome.INVALID), created(1), ResultLine(Outcome.FAILED)]
ISSUES = [
    issue("required", ERR, 4, "A"),
    issue("invalid-phone", ERR, 4, "B"),
    issue("required", ERR, 6, "A"),
    issue("unknown-column", WARN, None, "C"),
]


def test_summary_counts() -> None:
    assert summary_counts(LINES, ISSUES) == {
        "outcomes": {"created": 2, "invalid": 1, "failed": 1},
        "issues": {"invalid-phone": 1, "required": 2, "unknown-column": 1},
        "severities": {"error": 3, "warning": 1},
    }
    assert summary_counts([], []) == {
        "outcomes": {},
        "issues": {},
        "severities": {"error": 0, "warning": 0},
    }


def test_summary_sheet_rows_then_counts(tmp_path: Path) -> None:
    table = make_table({"A": [1, 2, 3, 4]})
    path = write(tmp_path, table, LINES, issues=ISSUES, summary=SUMMARY)

    rows = list(sheet(path, "Summary").iter_rows(values_only=True))
    assert rows[:8] == [
        ("command", "book"),
        ("input file", "week 12.xlsx"),
        ("sha256", "ab" * 32),
        ("rows read", 3),
        ("started", datetime(2030, 1, 2, 9, 0)),  # a date cell (UTC), not text
        ("duration (s)", 12.5),
        ("dry run", False),
        ("options", '{"rate": 10.0, "concurrency": 8}'),
    ]
    assert rows[8:] == [
        (None, None),
        ("Outcome", "Rows"),
        ("created", 2),
        ("invalid", 1),
        ("failed", 1),
        (None, None),
        ("Issue code", "Issues"),
        ("invalid-phone", 1),
        ("required", 2),
        ("unknown-column", 1),
        (None, None),
        ("Severity", "Issues"),
        ("error", 3),
        ("warning", 1),
    ]


def test_summary_times_are_date_cells_in_utc(tmp_path: Path) -> None:
    summary = {
        "started_at": "2030-07-01T10:00:00+01:00",  # as the pipeline writes it
        "finished_at": "not a time",
        "input_file": "2030-07-01T10:00:00+01:00.xlsx",  # not a time key: stays text
    }
    path = write(tmp_path, make_table({"A": [1]}), [created(0)], summary=summary)

    ws = sheet(path, "Summary")
    assert ws["B1"].value == datetime(2030, 7, 1, 9, 0) and ws["B1"].is_date
    assert ws["B1"].number_format == 'dd/mm/yyyy hh:mm:ss "UTC"'
    assert ws["B1"].alignment.horizontal == "left"  # values line up, numbers and text alike
    assert (ws["B2"].value, ws["B3"].value) == ("not a time", summary["input_file"])
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.fitToWidth == 1


def test_summary_json(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_summary_json(path, SUMMARY, lines=LINES, issues=ISSUES)

    document = json.loads(path.read_text("utf-8"))
    assert document == {
        "command": "book",
        "input file": "week 12.xlsx",
        "sha256": "ab" * 32,
        "rows read": 3,
        "started": "2030-01-02T09:00:00+00:00",
        "duration (s)": 12.5,
        "dry run": False,
        "options": {"rate": 10.0, "concurrency": 8},
        "counts": summary_counts(LINES, ISSUES),
    }
    assert list(document) == [*SUMMARY, "counts"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------- files


class Exploding(Sequence[ResultLine]):
    """Result lines that fail halfway through writing, like a bug or a full disk."""

    def __init__(self, lines: list[ResultLine], at: int) -> None:
        self.lines, self.at = lines, at

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, j: Any) -> Any:
        if isinstance(j, int) and j == self.at:
            raise OSError("disk full")
        return self.lines[j]


def test_failed_write_leaves_previous_file_and_no_temp_file(tmp_path: Path) -> None:
    table = make_table({"A": list(range(500))})
    lines = [created(j % 60) for j in range(500)]
    path = write(tmp_path, table, lines)
    before = path.read_bytes()

    with pytest.raises(OSError, match="disk full"):
        write(tmp_path, table, Exploding(lines, at=400))

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.xlsx"]


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write(tmp_path, make_table({"A": [1]}), [created(0)])
        json_path = tmp_path / "s.json"
        write_summary_json(json_path, {}, lines=[], issues=[])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(json_path.stat().st_mode) == 0o600


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    path.write_bytes(b"old")
    write(tmp_path, make_table({"A": ["new"]}), [created(0)])
    assert sheet(path)["A2"].value == "new"


def test_lines_must_match_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="result lines"):
        write(tmp_path, make_table({"A": [1, 2]}), [created(0)])
    assert list(tmp_path.iterdir()) == []


def test_many_rows_keep_their_order(tmp_path: Path) -> None:
    """More rows than one chunk taken from the frame: order and values still line up."""
    n = 5_000
    table = make_table({"Ref": [f"{j:05d}" for j in range(n)], "N": list(range(n))})
    lines = [ResultLine(Outcome.VALID, reference=f"{j:05d}") for j in range(n)]
    path = write(tmp_path, table, lines)

    found = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Results").to_python()
    rows = [found[r - 1] for r in table.source_rows]  # each at its own row number
    assert [r[2] for r in rows] == [float(s) for s in table.source_rows]
    assert all(r[0] == r[4] == f"{j:05d}" and r[1] == j for j, r in enumerate(rows))
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r)


def test_openpyxl_and_calamine_read_the_same_workbook(tmp_path: Path) -> None:
    """Two independent readers agree on every cell of every sheet."""
    table = make_table(
        {
            "Name": ["Ann", "=1+1", None, "  padded "],
            "When": [datetime(2030, 1, 2, 9, 30), None, date(1985, 2, 14), "tomorrow"],
            "N": [1, 2.5, True, "007"],
        }
    )
    lines = [created(0), ResultLine(Outcome.INVALID), created(2), ResultLine(Outcome.FAILED)]
    issues = [issue("required", ERR, 4, "A"), issue("in-past", WARN, 8, None)]
    path = write(tmp_path, table, lines, issues=issues, summary=SUMMARY)

    calamine = CalamineWorkbook.from_path(str(path))
    for name in ("Results", "Summary", "Issues"):
        by_openpyxl = [
            ["" if v is None else v for v in row]
            for row in sheet(path, name).iter_rows(values_only=True)
        ]
        by_calamine = [
            [datetime.combine(v, time()) if type(v) is date else v for v in row]
            for row in calamine.get_sheet_by_name(name).to_python()
        ]
        assert by_openpyxl == by_calamine, name


# ---------------------------------------------------------------- end to end: the addresses


def test_every_issue_is_highlighted_at_the_cell_it_names(tmp_path: Path) -> None:
    """Read by the real reader (a blank first row, a blank column C and a blank row 5 are
    skipped) and reported by `validate`: each issue's "row N, column X" is cell XN of the
    Results sheet, with that column's header, and its row number in Issues links there."""
    headers = ["Reference", "Claimant name", None, *BOOK_HEADERS[2:]]
    rows = [book_row(i) for i in range(6)]
    rows[1]["Phone"] = "12"  # row 4
    rows[2]["Email"] = "not-an-email"  # row 6, after the blank row 5
    rows[3]["Claimant name"] = None  # row 7
    rows[4]["Reference"] = rows[5]["Reference"]  # rows 8 and 9
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append([])  # row 1 blank: the header is row 2
    ws.append(headers)
    for i, row in enumerate(rows):
        if i == 2:
            ws.append([])  # row 5 blank
        ws.append([None if h is None else row.get(h) for h in headers])
    book.save(tmp_path / "in.xlsx")
    (tmp_path / "c.toml").write_text("[departments]\nBenefits = 1\n")
    report = tmp_path / "report.xlsx"
    argv = ["validate", str(tmp_path / "in.xlsx"), "--report", str(report)]
    argv += ["--config", str(tmp_path / "c.toml")]
    result = invoke({ENV_NOW: NOW.isoformat()}, *argv, catch_exceptions=True)
    assert result.exit_code == 1, result.output

    results, found = sheet(report), sheet(report, "Issues")
    names = header(found)
    issues = [
        dict(zip(names, r, strict=True)) for r in found.iter_rows(min_row=2, values_only=True)
    ]
    shown = [i for i in issues if i["source_row"] is not None and i["column"] is not None]
    assert {(i["source_row"], i["column"]) for i in shown} >= {
        (4, "E"), (6, "F"), (7, "B"), (8, "A"), (9, "A"),
    }  # fmt: skip
    for number, i in enumerate(issues, 2):
        if i not in shown:
            continue
        cell = results[f"{i['column']}{i['source_row']}"]
        assert cell.fill.fgColor.rgb in ("FFFFC7CE", "FFFFF2CC"), cell.coordinate
        assert i["message"] in cell.comment.text, cell.coordinate
        assert results[f"{i['column']}1"].value == i["header"]
        link = found.cell(number, 1).hyperlink
        assert link.location == f"'Results'!{cell.coordinate}"
    assert results["C1"].value is None and results["C3"].value is None  # the blank column
    assert all(c.value is None for c in results[5])  # the blank row
    assert results.cell(3, col(results, "source_row")).value == 3
