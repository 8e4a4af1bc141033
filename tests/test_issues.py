"""issues/ is the one place for every message: what the stages write matches its templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from batch_scheduler.errors import InputError
from batch_scheduler.intake import read_table
from batch_scheduler.issues import CODES, RUN_CODES, make_issue
from batch_scheduler.models import Issue


def _template_pattern(code: str) -> re.Pattern[str]:
    """The code's template with every placeholder free to be anything."""
    parts = re.split(r"\{[a-z_]+\}", CODES[code].template)
    return re.compile(".*".join(re.escape(part) for part in parts), re.DOTALL)


def assert_from_template(issues: tuple[Issue, ...] | list[Issue]) -> None:
    assert issues
    for issue in issues:
        assert _template_pattern(issue.code).fullmatch(issue.message), (issue.code, issue.message)


def test_the_readers_csv_messages_are_the_templates(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "Notes\n\nClaimant name,Appointment,Emial,,Caseworker\nA,14/07/2026 14:30,a@b.c,x,c\n",
        encoding="utf-8",
    )
    table = read_table(path, kind="book", sheet="Week 48")
    assert [i.code for i in table.issues] == [
        "sheet-ignored", "rows-above-header", "unknown-column", "unknown-column", "unknown-column",
    ]  # fmt: skip
    assert_from_template(table.issues)
    ignored, _, misspelt, blank, unknown = table.issues
    assert ignored.message == 'A CSV file has no sheets, so the sheet name "Week 48" was ignored.'
    assert ignored.value is None
    assert misspelt.message == (
        "This column is not one we know; it is kept and copied to the results but not sent. "
        "If it is meant to be “Email”, rename it."
    )
    assert blank.message == (
        "This column has data but no header; it is kept and copied to the results but not sent."
    )
    assert (blank.column, blank.header, blank.value) == ("D", None, None)
    assert unknown.message.endswith("but not sent.")


def test_the_readers_xlsx_messages_are_the_templates(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Claimant name", "Appointment", "Reference"])
    sheet.append(["A\u202e", "14/07/2026 14:30", "R-1"])
    sheet.append(["B", "15/07/2026 14:30", None])
    sheet.merge_cells("C2:C3")
    sheet.row_dimensions[3].hidden = True
    sheet.column_dimensions["B"].hidden = True
    book.save(tmp_path / "in.xlsx")
    table = read_table(tmp_path / "in.xlsx", kind="book")
    assert {i.code for i in table.issues} == {
        "control-characters", "hidden-row", "hidden-column", "merged-cell",
    }  # fmt: skip
    assert_from_template(table.issues)


def test_a_required_column_missing_is_one_message_whatever_the_kind(tmp_path: Path) -> None:
    """Checked once, by the reader, for every kind of sheet (the allocation sheets too)."""
    path = tmp_path / "in.csv"
    path.write_text("Phone\n07400 900123\n", encoding="utf-8")
    for kind, missing in (
        ("book", "Claimant name; and Appointment (or two columns, Appointment date and "),
        ("claimants", "Claimant name."),
        ("slots", "Start (or two columns, Start date and Start time)."),
    ):
        with pytest.raises(InputError) as raised:
            read_table(path, kind=kind)
        assert raised.value.message.startswith("in.csv is missing "), kind
        assert missing in raised.value.message, kind
        assert "Rename your header or add the column, then try again." in raised.value.message


def test_the_apis_refusal_is_a_code_of_its_own_shown_whole() -> None:
    assert "api-rejected" in RUN_CODES
    words = "The claimant.email field must be a valid email address. " * 3
    issue = make_issue("api-rejected", row=2, details=words)
    assert issue.is_error and issue.message == f"The API refused this value: {words}"
